//! No panic escapes: every future of a service (hook, body, run) is polled *and dropped* with
//! panics caught, without a task (or an allocation) per run; service values are dropped the same
//! way. Outcomes become a [`Failure`].
//!
//! A future is dropped as soon as it has completed or panicked, and never polled again, so the
//! usual unwind-safety concern (observing broken invariants) is confined to state it owned.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::task::{Context, Poll};

use crate::error::{BoxError, Failure};

/// A panic's payload.
pub(crate) type Payload = Box<dyn Any + Send>;

pin_project_lite::pin_project! {
    /// A service's future, polled with panics caught, with `busy` set during each poll (the
    /// watchdog names a service whose poll never returns). The future is dropped in place as soon
    /// as it is done, and a panic in its `Drop` is caught too.
    pub(crate) struct Caught<F, B: Busy> {
        #[pin]
        fut: Option<F>,
        busy: B,
    }

    impl<F, B: Busy> PinnedDrop for Caught<F, B> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion (a timeout, a cancelled hook, an aborted task).
            if let Err(payload) = this.project().fut.drop_in_place() {
                tracing::error!(error = %Failure::from_panic(payload), "a service's future panicked while being dropped");
            }
        }
    }
}

/// Where a poll in progress is recorded: a service's `busy` flag, or nowhere ([`Untracked`]).
pub(crate) trait Busy {
    fn set(&self, busy: bool);
}

impl Busy for &AtomicBool {
    fn set(&self, busy: bool) {
        self.store(busy, Relaxed);
    }
}

/// For futures that are not a service's own code path (a supervision, a queue's hooks): no flag,
/// and no room taken.
pub(crate) struct Untracked;

impl Busy for Untracked {
    fn set(&self, _: bool) {}
}

impl<F, B: Busy> Caught<F, B> {
    pub(crate) fn new(fut: F, busy: B) -> Self {
        Caught { fut: Some(fut), busy }
    }

    /// Drops the future now (a run that timed out); a panic in its `Drop` is returned.
    pub(crate) fn cancel(self: Pin<&mut Self>) -> Result<(), Payload> {
        self.project().fut.drop_in_place()
    }
}

/// Dropping a pinned future in place, panics caught.
trait DropInPlace {
    fn drop_in_place(self) -> Result<(), Payload>;
}

impl<F> DropInPlace for Pin<&mut Option<F>> {
    fn drop_in_place(mut self) -> Result<(), Payload> {
        if self.is_none() {
            return Ok(());
        }
        catch_unwind(AssertUnwindSafe(|| self.set(None)))
    }
}

impl<F: Future, B: Busy> Future for Caught<F, B> {
    type Output = Result<F::Output, Payload>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(fut) = this.fut.as_mut().as_pin_mut() else {
            // Polled after completion: never by the host.
            return Poll::Pending;
        };
        this.busy.set(true);
        let polled = catch_unwind(AssertUnwindSafe(|| fut.poll(cx)));
        this.busy.set(false);
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(out)) => Ok(out),
            Err(payload) => Err(payload),
        };
        // Done: drop it now, so that a panic in its `Drop` is this run's failure.
        match (result, this.fut.drop_in_place()) {
            (Ok(out), Ok(())) => Poll::Ready(Ok(out)),
            (Ok(_), Err(payload)) | (Err(payload), _) => Poll::Ready(Err(payload)),
        }
    }
}

/// A hook's or run's outcome, panics included, as a [`Failure`].
pub(crate) fn into_failure(result: Result<Result<(), BoxError>, Payload>) -> Result<(), Failure> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Failure::Error(e)),
        Err(payload) => Err(Failure::from_panic(payload)),
    }
}

/// Calls `make` and runs the hook or body it returns to completion; an error or a panic (while
/// making, polling or dropping the future) becomes a [`Failure`].
pub(crate) async fn catch<F: Future<Output = Result<(), BoxError>>>(
    make: impl FnOnce() -> F,
    busy: &AtomicBool,
) -> Result<(), Failure> {
    let fut = call_caught(make)?;
    into_failure(Caught::new(fut, busy).await)
}

/// Calls `make` and runs the future it returns to completion; a panic (while making, polling or
/// dropping it) becomes a [`Failure`].
pub(crate) async fn catch_future<F: Future<Output = ()>>(make: impl FnOnce() -> F) -> Result<(), Failure> {
    let fut = call_caught(make)?;
    Caught::new(fut, Untracked).await.map_err(Failure::from_panic)
}

/// Drops a service's value; a panic in its `Drop` becomes a [`Failure`].
pub(crate) fn drop_caught<T>(value: T) -> Result<(), Failure> {
    catch_unwind(AssertUnwindSafe(move || drop(value))).map_err(Failure::from_panic)
}

/// Calls a constructor; a panic becomes a [`Failure`].
pub(crate) fn call_caught<T>(f: impl FnOnce() -> T) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f)).map_err(Failure::from_panic)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop");
        }
    }

    #[tokio::test]
    async fn a_panic_in_the_drop_of_a_finished_future_is_its_failure() {
        let busy = AtomicBool::new(false);
        let fut = async {
            let _guard = PanicsOnDrop;
            Ok::<(), BoxError>(())
        };
        let failure = catch(|| fut, &busy).await.unwrap_err();
        assert_eq!(failure.to_string(), "panicked: drop");
        assert!(!busy.load(Relaxed));
    }

    #[tokio::test]
    async fn a_panic_in_the_drop_of_a_cancelled_future_is_returned() {
        let busy = AtomicBool::new(false);
        let guard = PanicsOnDrop;
        let fut = async move {
            let _guard = guard;
            std::future::pending::<()>().await
        };
        let mut caught = std::pin::pin!(Caught::new(fut, &busy));
        assert!(futures_poll_once(caught.as_mut()).is_pending());
        assert!(caught.as_mut().cancel().is_err());
        // Dropping it again is a no-op.
        assert!(caught.as_mut().cancel().is_ok());
    }

    #[test]
    fn drop_caught_catches_a_panicking_drop() {
        assert_eq!(drop_caught(PanicsOnDrop).unwrap_err().to_string(), "panicked: drop");
    }

    fn futures_poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        fut.poll(&mut cx)
    }
}
