//! What a service receives: its [`Context`], and the [`HostHandle`] any code can use to stop the host.

use std::sync::Arc;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::handle::HostHandle;
use crate::status::StatusCell;

/// Everything a running service gets from the host: its name, its cancellation token and a handle
/// to the host.
///
/// Cloning is cheap (one reference count). The token is a child of the host's: it is cancelled when
/// the host begins to shut down (and, for a periodic run with a `timeout`, when that run times out).
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
    /// The service's token is the host's (see [`HostHandle::services_token`]): every service is
    /// cancelled together, so none keeps a token of its own.
    pub(crate) host: HostHandle,
    pub(crate) status: StatusCell,
    /// Woken when the host stops: what a periodic service waits on between runs (see
    /// [`HostHandle::is_stopping`]).
    pub(crate) stop_waker: atomic_waker::AtomicWaker,
}

impl ServiceShared {
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
            run_token: Some(self.shared.host.services_token().child_token()),
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

    /// The service's own token (not a run's).
    pub(crate) fn service_token(&self) -> &CancellationToken {
        self.shared.host.services_token()
    }

    /// A copy of this context whose reference count is its own, for a queue worker that
    /// hands a context to every item: cloning it then never touches a cache line shared with the
    /// other workers. Same name, token and host; its status cell is unused.
    pub(crate) fn fork(&self) -> Context {
        Context {
            shared: Arc::new(ServiceShared {
                name: Arc::clone(&self.shared.name),
                host: self.shared.host.clone(),
                status: StatusCell::new(
                    &self.shared.name,
                    self.shared.status.kind,
                    None,
                    self.shared.status.policy(),
                ),
                stop_waker: atomic_waker::AtomicWaker::new(),
            }),
            run_token: self.run_token.clone(),
        }
    }

    /// The service's unique name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The token cancelled when this service must stop.
    pub fn token(&self) -> &CancellationToken {
        self.run_token.as_ref().unwrap_or(self.shared.host.services_token())
    }

    /// Completes when this service must stop (host shutdown, or a periodic run's timeout).
    pub fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token().cancelled()
    }

    /// Whether this service has been asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.token().is_cancelled()
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
