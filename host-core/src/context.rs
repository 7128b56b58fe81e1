//! What a service receives: its [`Context`], and the [`HostHandle`] any code can use to stop the host.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use once_cell::race::OnceBox;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::handle::HostHandle;
use crate::status::StatusCell;

/// Everything a running service gets from the host: its name, its cancellation token and a handle
/// to the host.
///
/// Cloning is cheap (one reference count). The service's token is its own: it is cancelled when
/// the host begins to shut down (and, for a periodic run with a `timeout`, that
/// run's token when the run times out). Cancelling it by hand stops this service only: a periodic
/// service starts no further run, a hosted service's body sees [`cancelled`](Context::cancelled)
/// complete.
///
/// ```
/// # async fn body(ctx: host::Context) -> Result<(), host::BoxError> {
/// loop {
///     tokio::select! {
///         _ = ctx.cancelled() => break,
///         _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => { /* work */ }
///     }
/// }
/// tracing::info!(service = ctx.name(), "drained");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Arc<ServiceShared>,
    /// Set only for a periodic run with a per-run timeout: that run's own token.
    pub(crate) run_token: Option<CancellationToken>,
}

/// What the host keeps per service and shares with its tasks.
pub(crate) struct ServiceShared {
    pub(crate) name: Arc<str>,
    pub(crate) host: HostHandle,
    /// The service's token, made when the service first asks for it: a service that never
    /// does costs no token (the host's stop reaches it through the flag and `stop_waker` below),
    /// one that does can be cancelled alone. Not a child of a host token: the stop cancels it
    /// directly (`HostHandle::cancel_services`), which spares every service a node in a shared
    /// tree (linked under the parent's lock when made, unlinked when dropped).
    token: OnceBox<TokenCell>,
    pub(crate) status: StatusCell,
    /// Woken when the host stops: what a periodic service waits on between runs (see
    /// [`HostHandle::is_stopping`]), its loop's waker registered once; in a hosted service, what
    /// one [`Cancelled`] future at a time waits on (`StatusCell::waker_taken`), so that a body
    /// awaiting [`Context::cancelled`] costs no token either. Making the token wakes it too, but
    /// only while such a future holds it.
    pub(crate) stop_waker: atomic_waker::AtomicWaker,
}

/// A service's token, and a wait on it that the [`Cancelled`] futures waiting on the token pass
/// on to each other.
struct TokenCell {
    token: CancellationToken,
    /// A wait on `token`, never polled: taken by a [`Cancelled`] future that waits on the token,
    /// put back fresh when that future is dropped, so that a periodic run awaiting
    /// `ctx.cancelled()` on every tick allocates nothing. Empty while in use: a second future
    /// waiting at the same time allocates its own.
    spare: Mutex<Option<TokenWait>>,
}

/// A wait on a token, boxed: [`Cancelled`] holds a pointer to it, not the 72-byte wait itself,
/// and every hosted body that awaits `ctx.cancelled()` holds a `Cancelled` in its task.
type TokenWait = Pin<Box<WaitForCancellationFutureOwned>>;

impl TokenCell {
    fn new(token: CancellationToken) -> Box<Self> {
        Box::new(TokenCell {
            token,
            spare: Mutex::new(None),
        })
    }

    /// A wait on the token: the spare, or a new one.
    fn take_wait(&self) -> TokenWait {
        let spare = self.spare.try_lock().ok().and_then(|mut spare| spare.take());
        spare.unwrap_or_else(|| Box::pin(self.token.clone().cancelled_owned()))
    }

    /// Keeps `wait` as the spare, fresh (not registered with the token), unless there is one.
    fn put_back(&self, mut wait: TokenWait) {
        if let Ok(mut spare) = self.spare.try_lock()
            && spare.is_none()
        {
            wait.set(self.token.clone().cancelled_owned());
            *spare = Some(wait);
        }
    }
}

impl ServiceShared {
    pub(crate) fn new(name: Arc<str>, host: HostHandle, status: StatusCell) -> Self {
        ServiceShared {
            name,
            host,
            token: OnceBox::new(),
            status,
            stop_waker: atomic_waker::AtomicWaker::new(),
        }
    }

    /// The service's token, made on first use; cancelled at once if the host is stopping.
    fn token(&self) -> &CancellationToken {
        &self.token_cell().token
    }

    fn token_cell(&self) -> &TokenCell {
        if let Some(cell) = self.token.get() {
            return cell;
        }
        let cell = self.token.get_or_init(|| TokenCell::new(CancellationToken::new()));
        // Pairs with the fence in `HostHandle::cancel_services`: either the stop sees this token,
        // or this sees the stop.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.host.is_stopping() {
            cell.token.cancel();
        }
        // A `Cancelled` future waiting in the waker slot moves over to the token (which can now be
        // cancelled by hand). Only then: a periodic loop keeps its waker in the slot until the
        // stop takes it. Pairs with the fence in `Cancelled::poll`: either this sees the slot
        // taken, or that future sees the token.
        if self.status.waker_taken.load(Ordering::Acquire) {
            self.stop_waker.wake();
        }
        cell
    }

    /// The stop reaching this service: its token (if made) cancelled, its waker slot woken.
    pub(crate) fn cancel(&self) {
        if let Some(cell) = self.token.get() {
            cell.token.cancel();
        }
        self.stop_waker.wake();
    }

    /// Whether the service must start nothing new: the host is stopping, or its token was
    /// cancelled by hand. An atomic load each, without making the token.
    pub(crate) fn is_stopped(&self) -> bool {
        self.host.is_stopping() || self.token.get().is_some_and(|cell| cell.token.is_cancelled())
    }

    /// The span every log line of the service is in (created again where needed rather than kept
    /// per service for the host's whole life).
    pub(crate) fn span(&self) -> tracing::Span {
        tracing::info_span!("service", name = %self.name)
    }
}

impl Context {
    pub(crate) fn new(shared: Arc<ServiceShared>) -> Self {
        Context {
            shared,
            run_token: None,
        }
    }

    /// The context of one periodic run with a timeout: the same service, a token of the run's own
    /// (a child of the service's), so that cancelling it at the timeout reaches whatever the run
    /// handed it to, without touching the service's token.
    pub(crate) fn for_run(&self) -> Self {
        Context {
            shared: self.shared.clone(),
            run_token: Some(self.shared.token().child_token()),
        }
    }

    /// The service's name, shared.
    #[cfg(feature = "testing")]
    pub(crate) fn name_arc(&self) -> &Arc<str> {
        &self.shared.name
    }

    /// The service's status cell.
    pub(crate) fn status(&self) -> &StatusCell {
        &self.shared.status
    }

    /// A copy of this context whose reference count is its own, for a queue worker that
    /// hands a context to every item: cloning it then never touches a cache line shared with the
    /// other workers. Same name, token and host; its status cell is unused.
    pub(crate) fn fork(&self) -> Context {
        Context {
            shared: Arc::new(ServiceShared {
                // The same token: the worker's items are the service's.
                token: OnceBox::with_value(TokenCell::new(self.shared.token().clone())),
                ..ServiceShared::new(
                    Arc::clone(&self.shared.name),
                    self.shared.host.clone(),
                    StatusCell::new(
                        &self.shared.name,
                        self.shared.status.kind,
                        None,
                        self.shared.status.policy(),
                    ),
                )
            }),
            run_token: self.run_token.clone(),
        }
    }

    /// The service's unique name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The token cancelled when this service must stop: the service's own (a periodic run with a
    /// `timeout` gets a token of the run's, a child of it). Cancelling it by hand stops this
    /// service only.
    pub fn token(&self) -> &CancellationToken {
        match &self.run_token {
            Some(token) => token,
            None => self.shared.token(),
        }
    }

    /// Completes when this service must stop: host shutdown, its token cancelled by hand, or a
    /// periodic run's timeout.
    ///
    /// In a hosted service that has not asked for its [`token`](Context::token), the future
    /// waits without making one.
    pub fn cancelled(&self) -> Cancelled<'_> {
        let shared = &*self.shared;
        let wait = match (&self.run_token, shared.token.get()) {
            // A run's own token: a wait of its own (the run allocated the token already).
            (Some(token), _) => Some(Box::pin(token.clone().cancelled_owned())),
            (None, Some(cell)) => Some(cell.take_wait()),
            (None, None)
                if shared.status.kind == crate::ServiceKind::Hosted
                    && !shared.status.waker_taken.swap(true, Ordering::AcqRel) =>
            {
                None
            }
            (None, None) => Some(shared.token_cell().take_wait()),
        };
        Cancelled { ctx: self, wait }
    }

    /// Whether this service has been asked to stop.
    pub fn is_cancelled(&self) -> bool {
        match &self.run_token {
            Some(token) => token.is_cancelled(),
            // Without making the service's token if it does not exist yet.
            None => self.shared.is_stopped(),
        }
    }

    /// The handle to the host: request a stop, watch its lifetime, read the status snapshot.
    pub fn host(&self) -> &HostHandle {
        &self.shared.host
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("name", &self.name())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The future of [`Context::cancelled`]: completes when the service must stop.
///
/// In a hosted service, one such future at a time waits in the service's waker slot, woken by
/// the host's stop without a [`CancellationToken`] being made; any other, and every one in a
/// periodic service, waits on the service's token (made for it). Once the token exists (asked
/// for through [`Context::token`]), every future waits on it, so that cancelling it by hand
/// completes them all.
///
/// It is two words: the wait on a token is boxed, once per service, and handed from one future
/// to the next, so that a periodic job awaiting `ctx.cancelled()` in every run allocates nothing
/// (only a future waiting while another one does, or one on a run's own token under a
/// `timeout`, allocates its own).
#[must_use = "futures do nothing unless polled"]
pub struct Cancelled<'a> {
    ctx: &'a Context,
    /// `None` while this future holds the service's waker slot; otherwise its wait on a token.
    /// Two words in all: every hosted body that awaits it holds it in its task.
    wait: Option<TokenWait>,
}

impl Future for Cancelled<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if let Some(wait) = &mut this.wait {
            return wait.as_mut().poll(cx);
        }
        let shared = &*this.ctx.shared;
        if shared.host.is_stopping() {
            return Poll::Ready(());
        }
        shared.stop_waker.register(cx.waker());
        // Pairs with the fences of the stop (`HostHandle::cancel_services`) and of the token's
        // maker (`ServiceShared::token_cell`): each sets its flag, then wakes the slot; this
        // registers, then reads both.
        std::sync::atomic::fence(Ordering::SeqCst);
        if shared.host.is_stopping() {
            return Poll::Ready(());
        }
        let Some(cell) = shared.token.get() else {
            return Poll::Pending;
        };
        // The token exists (and may be cancelled by hand): wait on it from now on.
        shared.status.waker_taken.store(false, Ordering::Release);
        this.wait.insert(cell.take_wait()).as_mut().poll(cx)
    }
}

impl Drop for Cancelled<'_> {
    fn drop(&mut self) {
        let shared = &*self.ctx.shared;
        match self.wait.take() {
            None => shared.status.waker_taken.store(false, Ordering::Release),
            // A wait on the service's token goes back for the next future; a run's is dropped.
            Some(wait) if self.ctx.run_token.is_none() => {
                if let Some(cell) = shared.token.get() {
                    cell.put_back(wait);
                }
            }
            Some(_) => {}
        }
    }
}

impl std::fmt::Debug for Cancelled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancelled")
            .field("service", &self.ctx.name())
            .field("waker_slot", &self.wait.is_none())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    struct Waits;

    impl crate::HostedService for Waits {
        async fn run(&mut self, ctx: &Context) -> Result<(), crate::BoxError> {
            ctx.cancelled().await;
            Ok(())
        }
    }

    /// A hosted service whose body (and start hook) only await `ctx.cancelled()` is stopped
    /// without a token ever being made for it.
    #[tokio::test(start_paused = true)]
    async fn a_hosted_service_awaiting_its_stop_makes_no_token() {
        let host = crate::Host::builder()
            .discover(false)
            .catch_signals(false)
            .service(crate::Service::hosted("waits", Waits))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let handle = host.handle();
        let run = tokio::spawn(host.run());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let services = handle.services();
        assert_eq!(services.len(), 1);
        handle.stop();
        let report = run
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.is_clean());
        assert!(services.iter().all(|s| s.token.get().is_none()), "a token was made");
    }
}
