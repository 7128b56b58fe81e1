//! Catching a panic inside a future, without a task (and its allocation) per run, and turning a
//! hook's or run's outcome into a [`Failure`].
//!
//! The future is dropped after a panic and never polled again, so the usual unwind-safety concern
//! (observing broken invariants) is confined to state the future owned.

use std::any::Any;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use crate::error::{BoxError, Failure};

/// A panic's payload.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Polls `fut` once with panics caught: a panic ends it with the payload.
pub(crate) fn poll_caught<F: Future>(fut: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<Result<F::Output, Payload>> {
    match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
        Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(payload)),
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

/// Runs a hook or body to completion; an error or a panic becomes a [`Failure`].
pub(crate) async fn catch<F: Future<Output = Result<(), BoxError>>>(fut: F) -> Result<(), Failure> {
    let mut fut = pin!(fut);
    into_failure(poll_fn(|cx| poll_caught(fut.as_mut(), cx)).await)
}
