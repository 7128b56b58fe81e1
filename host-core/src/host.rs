//! [`Host::run`]: check the runtime, start the watchdog, start every service in order, wait for a
//! stop, and hand over to the shutdown. And [`run`], the whole thing with the defaults.

use std::sync::Arc;

use crate::builder::{Builder, Options, discard};
use crate::context::{Context, ServiceShared};
use crate::error::{Error, ServiceFailure};
use crate::handle::{HostHandle, Phase};
use crate::report::{Outcome, Report, StopReason};
use crate::shutdown::{self, Shutdown};
use crate::slot::Service;
use crate::status::StatusCell;
use crate::supervisor::{HookEnds, Spawned, Task};
use crate::watchdog;

/// Finds every service registered with `#[host::hosted_service]`, `#[host::periodic]` or
/// [`register!`](crate::register), runs them until Ctrl+C / SIGTERM (or a failure under the
/// `stop-host` policy), and shuts them down gracefully within 30 s.
///
/// This is `Host::builder().build()?.run().await` with the report dropped (it is logged).
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), host::Error> {
///     host::run().await
/// }
/// ```
pub async fn run() -> Result<(), Error> {
    Host::builder().build()?.run().await.map(drop)
}

/// A configured host, ready to [`run`](Host::run).
#[must_use = "a Host does nothing until `.run().await`"]
pub struct Host {
    /// As given (registered first, then by hand).
    services: Vec<Service>,
    /// The start order: indices into `services`.
    start: Box<[u32]>,
    handle: HostHandle,
    options: Options,
}

impl Host {
    /// A builder with the defaults: registered services, 30 s shutdown timeout, signals caught,
    /// `stop-host` on failure.
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) fn new(services: Vec<Service>, start: Box<[u32]>, handle: HostHandle, options: Options) -> Self {
        Host {
            services,
            start,
            handle,
            options,
        }
    }

    /// A handle to this host, usable before and while it runs.
    pub fn handle(&self) -> HostHandle {
        self.handle.clone()
    }

    /// The services in start order.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services().map(|s| &*s.name)
    }

    /// The services in start order, as configured (with the configuration overrides applied), to
    /// check or log what will run.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.start.iter().map(|&at| &self.services[at as usize])
    }

    /// Starts every service in order, runs until a stop is requested, then shuts down within the
    /// timeout.
    ///
    /// - **Start**: services start in ascending `order`, then by name, each on its own task. The
    ///   host waits for a service's start hook before it starts the next one; a body never delays
    ///   another service's start. A start hook that fails (or panics) aborts start-up: the services
    ///   already started are stopped in reverse order. A stop request during a start hook drops
    ///   that hook (the service never started).
    /// - **Run**: until SIGINT/SIGTERM, [`HostHandle::stop`], or a failure under `stop-host`.
    /// - **Stop**: every token is cancelled at once (the services woken in reverse start order),
    ///   and the bodies end concurrently. In reverse start order, each service's stop hook runs
    ///   once its own body has ended and every service started after it is done, so a hook never
    ///   tears down what a later service may still use.
    ///   Bodies have three quarters of the shutdown timeout: whatever still runs then (a body that
    ///   ignores its token, a stop hook that does not return) is aborted and named, and the last
    ///   quarter is reserved for the stop hooks of the services started before it. At the timeout
    ///   whatever still runs is aborted and named; a stop hook whose turn never came is reported
    ///   [`Outcome::HookSkipped`]. Only services still running are named, in the log (one WARN
    ///   line each), the [`Report`] and [`Error::ShutdownTimeout`].
    ///
    /// A host that owns its process ([`Builder::hard_exit`]) is also watched from a thread of its
    /// own: signals are seen even while a hook blocks every runtime worker, a second signal exits
    /// with [`FORCED_EXIT_CODE`](crate::FORCED_EXIT_CODE), and a process that has not ended at the
    /// timeout plus [`SHUTDOWN_GRACE`](crate::SHUTDOWN_GRACE) exits with
    /// [`STUCK_EXIT_CODE`](crate::STUCK_EXIT_CODE), naming the services still running.
    ///
    /// Dropping the future this returns cancels every service's token (their stop hooks still
    /// run, without the ordering).
    ///
    /// Returns the [`Report`] when every service stopped cleanly, otherwise the [`Error`] (which
    /// carries the report). Outside a tokio runtime, or on one without its time driver, it returns
    /// [`Error::NoRuntime`] / [`Error::NoTimeDriver`] before anything starts.
    pub async fn run(self) -> Result<Report, Error> {
        let Host {
            services,
            start,
            handle,
            options,
        } = self;
        if let Err(error) = check_runtime() {
            services.into_iter().for_each(discard);
            return Err(error);
        }
        let hard_exit = options.hard_exit.unwrap_or(options.catch_signals);
        let watchdog = if options.catch_signals || hard_exit {
            let watch = watchdog::Options {
                signals: options.catch_signals,
                hard_exit,
                timeout: options.shutdown_timeout,
            };
            watchdog::start(&handle, watch)
                .inspect_err(
                    |error| tracing::warn!(%error, "running without the watchdog: stop the host through its handle"),
                )
                .ok()
        } else {
            None
        };
        // Until the run ends, dropping it cancels every service.
        let guard = RunGuard {
            handle: &handle,
            watchdog: watchdog.as_ref(),
        };

        // Each service taken from its place in start order (`Option<Service>` is a `Service`'s size:
        // the vector is reused), its shared state made in that order too, as the start loop and the
        // shutdown walk them.
        let mut services: Vec<Option<Service>> = services.into_iter().map(Some).collect();
        let mut slots = Vec::with_capacity(start.len());
        let mut shared = Vec::with_capacity(start.len());
        for &at in &start {
            let Some(mut s) = services.get_mut(at as usize).and_then(Option::take) else {
                continue;
            };
            let policy = s.extras.and_then(|e| e.policy).unwrap_or(options.policy);
            // Boxed in the status, beside the shared state, both kept for the host's life.
            let schedule = s.slot.take_schedule();
            // The status first, as it borrows the name (metrics labels).
            let status = StatusCell::new(&s.name, s.slot.kind(), schedule, policy);
            slots.push(s.slot);
            shared.push(Arc::new(ServiceShared::new(s.name, handle.clone(), status)));
        }
        drop((services, start));
        let shared: Arc<[Arc<ServiceShared>]> = shared.into();
        handle.set_services(shared.clone());
        // READY, STATUS, STOPPING and the watchdog pings while this run lasts.
        #[cfg(feature = "systemd")]
        let _systemd = crate::systemd::Notifier::spawn(&handle, shared.len());

        // ---- start ----
        handle.set_phase(Phase::Starting);
        tracing::info!(services = shared.len(), "host starting");
        // One per spawned service, in start order: the shutdown awaits them by index.
        let mut tasks: Vec<Spawned> = Vec::with_capacity(shared.len());
        // The stop-hook turns of the services with hooks, by index in `tasks`.
        let mut turns = Vec::new();
        let mut failed_start = None;
        let mut slots = slots.into_iter();
        for (svc, slot) in shared.iter().zip(slots.by_ref()) {
            if handle.is_stop_requested() {
                discard_slot(slot);
                break;
            }
            let span = svc.span();
            let ctx = Context::new(svc.clone());
            svc.status.set_state(crate::State::Starting);
            match svc.status.schedule() {
                Some(schedule) => tracing::info!(parent: &span, %schedule, "starting"),
                None => tracing::info!(parent: &span, "starting"),
            }
            let (spawned, hooks) = slot.spawn(Task {
                ctx,
                span: span.clone(),
            });
            let started = match hooks {
                None => Ok(()),
                Some(HookEnds { started, turn }) => {
                    turns.push((tasks.len(), turn));
                    tokio::select! {
                    biased;
                    r = started => r.unwrap_or(Ok(())),
                    _ = handle.stop_requested() => {
                        tasks.push(spawned);
                        break;
                    }
                    }
                }
            };
            tasks.push(spawned);
            if let Err(failure) = started {
                tracing::error!(parent: &span, error = %failure, "start hook failed; stopping the services already started");
                handle.request_stop(StopReason::StartFailed(svc.name.to_string()));
                failed_start = Some(ServiceFailure {
                    service: svc.name.to_string(),
                    failure,
                });
                break;
            }
            tracing::info!(parent: &span, "started");
        }
        slots.for_each(discard_slot);

        // ---- run ----
        if !handle.is_stop_requested() {
            handle.set_phase(Phase::Started);
            tracing::info!(
                services = tasks.len(),
                "host started; press Ctrl+C or send SIGTERM to shut down"
            );
            handle.stop_requested().await;
        }

        // ---- stop ----
        #[cfg(feature = "systemd")]
        _systemd.stopping();
        let (mut report, summary, stuck) = shutdown::run(Shutdown {
            handle: &handle,
            shared: &shared,
            tasks,
            turns,
            timeout: options.shutdown_timeout,
            reason: handle.stop_reason(),
        })
        .await;
        std::mem::forget(guard);
        drop(shared);
        if let Some(watchdog) = &watchdog {
            watchdog.finished(stuck);
        }
        let failures = handle.take_failures();
        // From the stop request to now, when the caller resumes: the teardown included.
        report.shutdown = handle
            .stop_requested_at()
            .map_or(std::time::Duration::ZERO, |at| at.elapsed());
        shutdown::log_summary(&report, summary);

        if let Some(ServiceFailure { service, failure }) = failed_start {
            return Err(Error::StartFailed {
                service,
                source: failure,
                report: Box::new(report),
            });
        }
        if !failures.is_empty() {
            return Err(Error::ServiceFailed {
                failures,
                report: Box::new(report),
            });
        }
        if summary.aborted > 0 {
            let stragglers = report.with_outcome(Outcome::Aborted).map(str::to_owned).collect();
            return Err(Error::ShutdownTimeout {
                timeout: options.shutdown_timeout,
                stragglers,
                report: Box::new(report),
            });
        }
        Ok(report)
    }
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("services", &self.services().collect::<Vec<_>>())
            .field("shutdown_timeout", &self.options.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

/// Cancels every service when the run's future is dropped before it ended.
struct RunGuard<'a> {
    handle: &'a HostHandle,
    watchdog: Option<&'a watchdog::Watchdog>,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        tracing::warn!("the host's run was dropped before it ended; cancelling every service");
        self.handle.request_stop(StopReason::Requested);
        if let Some(watchdog) = self.watchdog {
            watchdog.finished(Vec::new());
        }
    }
}

fn discard_slot(slot: Box<dyn crate::slot::Slot>) {
    if let Err(error) = crate::panic::drop_caught(slot) {
        tracing::error!(%error, "a service that never started panicked while being dropped");
    }
}

/// The host needs a tokio runtime with its time driver; say how to get one instead of panicking
/// in the first timer.
fn check_runtime() -> Result<(), Error> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(Error::NoRuntime);
    }
    // tokio has no query for its time driver, only a panic on first use: probe once, with the
    // panic hook silenced so that no "panicked at" line reaches the log. The lock keeps two hosts
    // starting at once from restoring each other's silenced hook.
    static PROBE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _probing = PROBE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| drop(tokio::time::sleep(std::time::Duration::ZERO)));
    std::panic::set_hook(hook);
    probe.map_err(|_| Error::NoTimeDriver)
}
