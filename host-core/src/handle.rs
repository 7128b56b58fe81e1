//! [`HostHandle`]: request a stop, await the host's lifetime events, read the status snapshot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::clock::WallOrigin;
use crate::context::ServiceShared;
use crate::error::ServiceFailure;
use crate::report::StopReason;
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
/// let host = host::Host::builder().discover(false).allow_empty(true).build()?;
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
    inner: Arc<HostShared>,
}

struct HostShared {
    /// Cancelled when a stop is requested, by anyone.
    stop: CancellationToken,
    /// Set when a stop is requested, before any token is cancelled: what periodic services check
    /// between runs (an atomic load, where a token's state is behind a mutex).
    stopping: AtomicBool,
    /// Why the stop was requested: the first reason wins.
    reason: OnceLock<StopReason>,
    /// Failures reported by services, in order; only touched on the failure path.
    failures: Mutex<Vec<ServiceFailure>>,
    phase: watch::Sender<Phase>,
    /// The running services, for [`HostHandle::status`]; emptied when the host stops, which also
    /// breaks the reference cycle service → handle → service.
    services: Mutex<Arc<[Arc<ServiceShared>]>>,
    /// Instants in the status snapshot are stored as nanoseconds since this instant.
    epoch: Instant,
    /// A fixed wall-clock time for `epoch` (tests of cron schedules); `None`: the system clock.
    wall_origin: WallOrigin,
    shutdown_timeout: Duration,
    /// When the stop was first requested (the report's shutdown time starts there).
    stop_requested_at: OnceLock<Instant>,
    /// Told when a stop is requested: the watchdog thread of a host that owns its process.
    stop_listener: OnceLock<mpsc::UnboundedSender<()>>,
    /// Every run, for the test kit.
    #[cfg(feature = "testing")]
    recorder: OnceLock<Arc<crate::testing::Recorder>>,
    /// The host's work queues, for [`HostHandle::queue`].
    queues: crate::queue::registry::Queues,
    /// The coordination backend of singleton jobs, set once by the builder.
    coordination: OnceLock<crate::coordination::Coordination>,
}

impl HostHandle {
    pub(crate) fn new(wall_origin: WallOrigin, shutdown_timeout: Duration) -> Self {
        let stop = CancellationToken::new();
        HostHandle {
            inner: Arc::new(HostShared {
                stopping: AtomicBool::new(false),
                stop,
                reason: OnceLock::new(),
                failures: Mutex::new(Vec::new()),
                phase: watch::Sender::new(Phase::Created),
                services: Mutex::new(Arc::from([])),
                epoch: Instant::now(),
                wall_origin,
                shutdown_timeout,
                stop_requested_at: OnceLock::new(),
                stop_listener: OnceLock::new(),
                #[cfg(feature = "testing")]
                recorder: OnceLock::new(),
                queues: crate::queue::registry::Queues::default(),
                coordination: OnceLock::new(),
            }),
        }
    }

    /// Requests a graceful shutdown. Idempotent; returns at once. Every service's token is
    /// cancelled before it returns, so no periodic run starts after it.
    pub fn stop(&self) {
        self.request_stop(StopReason::Requested);
    }

    /// Whether a stop has been requested.
    pub fn is_stop_requested(&self) -> bool {
        // The flag set with the stop token (an atomic load; the token's state is behind a mutex).
        self.is_stopping()
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

    /// The bound on the host's shutdown ([`Builder::shutdown_timeout`](crate::Builder::shutdown_timeout)).
    pub fn shutdown_timeout(&self) -> Duration {
        self.inner.shutdown_timeout
    }

    /// A snapshot of every service's state and counters, in start order.
    ///
    /// Reading it never slows a service's ticks: the states, counters and times are atomics,
    /// written with relaxed stores; only the last error's text sits behind a per-service mutex,
    /// which a service takes when a run fails.
    pub fn status(&self) -> Vec<ServiceStatus> {
        let stopping = self.phase() >= Phase::Stopping;
        self.services()
            .iter()
            .map(|s| {
                let mut status = s.status.snapshot(&s.name, self.inner.epoch, stopping);
                status.queue = self.inner.queues.stats(&s.name);
                status
            })
            .collect()
    }

    /// The host's work queues.
    pub(crate) fn queues(&self) -> &crate::queue::registry::Queues {
        &self.inner.queues
    }

    /// The running services.
    pub(crate) fn services(&self) -> Arc<[Arc<ServiceShared>]> {
        Arc::clone(&self.inner.services.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn epoch(&self) -> Instant {
        self.inner.epoch
    }

    /// The coordination of singleton jobs (set by the builder before anything runs).
    pub(crate) fn set_coordination(&self, coordination: crate::coordination::Coordination) {
        let _ = self.inner.coordination.set(coordination);
    }

    /// The coordination of singleton jobs, if one was configured.
    pub(crate) fn coordination(&self) -> Option<&crate::coordination::Coordination> {
        self.inner.coordination.get()
    }

    pub(crate) fn wall_origin(&self) -> WallOrigin {
        self.inner.wall_origin
    }

    /// Why the host is stopping; `Requested` if nobody said.
    pub(crate) fn stop_reason(&self) -> StopReason {
        self.inner.reason.get().cloned().unwrap_or(StopReason::Requested)
    }

    /// Whether a stop was requested: periodic services check this between runs, woken through
    /// their `stop_waker`.
    pub(crate) fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// Cancels every service: the flag first, then the tokens (the host's, and each service's own
    /// where it was made), then the periodic services' wakers (so that a service woken sees the
    /// flag).
    pub(crate) fn cancel_services(&self) {
        // Once is enough (the shutdown calls this again for the run's drop guard): the second
        // pass over every service would find no waker to wake.
        if self.inner.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Pairs with the fence in `ServiceShared::token`: either this pass sees a token being
        // made, or its maker sees the flag (and cancels it).
        std::sync::atomic::fence(Ordering::SeqCst);
        self.inner.stop.cancel();
        // In reverse start order, the order the shutdown awaits them in: the last service woken is
        // the first awaited, so the shutdown tears down the services that have ended while the
        // others are still ending, rather than waiting for all of them first.
        for service in self.services().iter().rev() {
            service.cancel();
        }
    }

    /// Requests a stop for `reason` (the first reason wins) and tells the watchdog.
    pub(crate) fn request_stop(&self, reason: StopReason) {
        if self.inner.stop.is_cancelled() {
            return;
        }
        let _ = self.inner.reason.set(reason);
        let _ = self.inner.stop_requested_at.set(Instant::now());
        self.cancel_services();
        if let Some(listener) = self.inner.stop_listener.get() {
            let _ = listener.send(());
        }
    }

    /// When the stop was first requested.
    pub(crate) fn stop_requested_at(&self) -> Option<Instant> {
        self.inner.stop_requested_at.get().copied()
    }

    /// Sets who is told of the stop request (once); a stop already requested is passed on at once.
    pub(crate) fn listen_for_stop(&self, listener: mpsc::UnboundedSender<()>) {
        let listener = self.inner.stop_listener.get_or_init(|| listener);
        if self.is_stop_requested() {
            let _ = listener.send(());
        }
    }

    #[cfg(feature = "testing")]
    pub(crate) fn set_recorder(&self, recorder: Arc<crate::testing::Recorder>) {
        let _ = self.inner.recorder.set(recorder);
    }

    #[cfg(feature = "testing")]
    pub(crate) fn recorder(&self) -> Option<&crate::testing::Recorder> {
        self.inner.recorder.get().map(|r| &**r)
    }

    pub(crate) fn set_phase(&self, phase: Phase) {
        self.inner.phase.send_replace(phase);
    }

    /// Records a failure; with `stop_host`, also requests a stop naming the service.
    pub(crate) fn report_failure(&self, failure: ServiceFailure, stop_host: bool) {
        let reason = StopReason::ServiceFailed(failure.service.clone());
        self.inner
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(failure);
        if stop_host {
            self.request_stop(reason);
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
