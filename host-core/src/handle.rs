//! [`HostHandle`]: request a stop, await the host's lifetime events, read the status snapshot.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::context::ServiceShared;
use crate::error::ServiceFailure;
use crate::status::ServiceStatus;

/// The moments of the host's lifetime, in order (.NET's `IHostApplicationLifetime` and
/// `IHostedLifecycleService`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Built, not yet running.
    Created,
    /// Start hooks are running.
    Starting,
    /// Every service has started.
    Started,
    /// Shutdown has begun: tokens are cancelled, bodies are draining, stop hooks run.
    Stopping,
    /// Every service has stopped or was aborted.
    Stopped,
}

/// A cheap, cloneable handle to a host: ask it to stop, wait for its lifetime events, and read the
/// status of every service.
///
/// Get one from [`Host::handle`](crate::Host::handle) before running, or from
/// [`Context::host`](crate::Context::host) inside a service.
///
/// ```
/// # async fn demo() -> Result<(), host::Error> {
/// let host = host::Host::builder().discover(false).build()?;
/// let handle = host.handle();
/// tokio::spawn(async move {
///     handle.wait_for(host::Phase::Started).await;
///     handle.stop(); // e.g. from an admin endpoint
/// });
/// host.run().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HostHandle {
    pub(crate) inner: Arc<HostShared>,
}

pub(crate) struct HostShared {
    /// Cancelled when a stop is requested, by anyone.
    pub(crate) stop: CancellationToken,
    /// Failures reported by services, in order; only touched on the failure path.
    pub(crate) failures: Mutex<Vec<ServiceFailure>>,
    pub(crate) phase: watch::Sender<Phase>,
    /// The running services, for [`HostHandle::status`]; emptied when the host stops, which also
    /// breaks the reference cycle service → handle → service.
    pub(crate) services: Mutex<Arc<[Arc<ServiceShared>]>>,
    /// Instants in the status snapshot are stored as nanoseconds since this instant.
    pub(crate) epoch: Instant,
    /// A fixed wall-clock time for `epoch` (tests of cron schedules); `None`: the system clock.
    pub(crate) wall_origin: crate::periodic::WallOrigin,
    // issue-13 (work queue): the builder's shutdown timeout, and the host's queues.
    pub(crate) shutdown_timeout: std::time::Duration,
    pub(crate) queues: crate::queue::registry::Queues,
}

impl HostHandle {
    pub(crate) fn new(wall_origin: crate::periodic::WallOrigin, shutdown_timeout: std::time::Duration) -> Self {
        HostHandle {
            inner: Arc::new(HostShared {
                stop: CancellationToken::new(),
                failures: Mutex::new(Vec::new()),
                phase: watch::Sender::new(Phase::Created),
                services: Mutex::new(Arc::from([])),
                epoch: Instant::now(),
                wall_origin,
                shutdown_timeout,                                  // issue-13
                queues: crate::queue::registry::Queues::default(), // issue-13
            }),
        }
    }

    /// Requests a graceful shutdown. Idempotent; returns at once.
    pub fn stop(&self) {
        self.inner.stop.cancel();
    }

    /// Whether a stop has been requested.
    pub fn is_stop_requested(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// Completes when a stop has been requested (by a signal, a handle or a failing service).
    pub async fn stop_requested(&self) {
        self.inner.stop.cancelled().await
    }

    /// The host's current phase.
    pub fn phase(&self) -> Phase {
        *self.inner.phase.borrow()
    }

    /// Completes once the host has reached `phase` (or a later one).
    pub async fn wait_for(&self, phase: Phase) {
        let mut rx = self.inner.phase.subscribe();
        // The sender lives in `inner`, which `self` keeps alive: the channel cannot close.
        let _ = rx.wait_for(|p| *p >= phase).await;
    }

    /// A snapshot of every service's state and counters, in start order.
    ///
    /// Reading it never slows a service's ticks: the states, counters and times are atomics,
    /// written with relaxed stores; only the last error's text sits behind a per-service mutex,
    /// which a service takes when a run fails.
    pub fn status(&self) -> Vec<ServiceStatus> {
        let services = Arc::clone(&self.inner.services.lock().unwrap_or_else(PoisonError::into_inner));
        services
            .iter()
            .map(|s| s.status.snapshot(&s.name, self.inner.epoch))
            .collect()
    }

    /// The bound on the host's whole shutdown ([`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout)).
    pub fn shutdown_timeout(&self) -> std::time::Duration {
        self.inner.shutdown_timeout // issue-13
    }

    /// issue-13: the host's work queues.
    pub(crate) fn queues(&self) -> &crate::queue::registry::Queues {
        &self.inner.queues
    }

    pub(crate) fn wall_origin(&self) -> crate::periodic::WallOrigin {
        self.inner.wall_origin
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.inner.phase.send_replace(phase);
    }

    /// Records a failure; with `stop_host`, also requests a stop.
    pub(crate) fn report_failure(&self, failure: ServiceFailure, stop_host: bool) {
        self.inner
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(failure);
        if stop_host {
            self.stop();
        }
    }

    pub(crate) fn take_failures(&self) -> Vec<ServiceFailure> {
        std::mem::take(&mut *self.inner.failures.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set_services(&self, services: Arc<[Arc<ServiceShared>]>) {
        *self.inner.services.lock().unwrap_or_else(PoisonError::into_inner) = services;
    }
}

impl std::fmt::Debug for HostHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostHandle").field("phase", &self.phase()).finish()
    }
}
