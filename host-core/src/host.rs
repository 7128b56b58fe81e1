//! The host: [`Builder`] (discovery, selection, options), [`Host::run`] (start in order, supervise,
//! stop in reverse order within the shutdown timeout), and [`run`].

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use crate::context::{Context, ServiceShared};
use crate::error::{Error, humanize};
use crate::handle::{HostHandle, Phase};
use crate::panic;
use crate::policy::FailurePolicy;
use crate::registry::{self, Registration};
use crate::report::{Outcome, Report, ServiceReport, StopReason};
use crate::runner::{Done, Exit, Task};
use crate::service::{Location, Service};
use crate::signal::Signals;
use crate::status::{ServiceKind, State, StatusCell};

/// The exit code of a process that a second SIGINT/SIGTERM during graceful shutdown ended at once
/// (128 + SIGINT, what shells report for an interrupted program).
pub const FORCED_EXIT_CODE: i32 = 130;

/// The default shutdown timeout, as .NET's: 30 s.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

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

/// Configures a [`Host`]: which services, and how it starts and stops.
///
/// ```
/// use host::{FailurePolicy, Host, Restart, Schedule, Service};
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), host::Error> {
/// Host::builder()
///     .service(Service::periodic("tick", Schedule::every(Duration::from_secs(1)), |_, _| async {}))
///     .except(["legacy-importer"])                 // all registered services but this one
///     .shutdown_timeout(Duration::from_secs(10))
///     .on_failure(FailurePolicy::Restart(Restart::new()))
///     .build()?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a Builder does nothing until `.build()?.run().await`"]
pub struct Builder {
    services: Vec<Service>,
    discover: bool,
    only: Option<Vec<String>>,
    except: Vec<String>,
    shutdown_timeout: Duration,
    catch_signals: bool,
    policy: FailurePolicy,
    wall_origin: Option<crate::periodic::WallTime>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            services: Vec::new(),
            discover: true,
            only: None,
            except: Vec::new(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            catch_signals: true,
            policy: FailurePolicy::StopHost,
            wall_origin: None,
        }
    }
}

impl Builder {
    /// Adds a service built by hand (in addition to the registered ones).
    pub fn service(mut self, service: Service) -> Self {
        self.services.push(service);
        self
    }

    /// Adds many services built by hand.
    pub fn services(mut self, services: impl IntoIterator<Item = Service>) -> Self {
        self.services.extend(services);
        self
    }

    /// Whether to include the services registered by the attribute macros and
    /// [`register!`](crate::register) (default `true`).
    pub fn discover(mut self, yes: bool) -> Self {
        self.discover = yes;
        self
    }

    /// Runs only the services with these names (for tests, or one binary per role). An unknown name
    /// makes [`build`](Self::build) fail with the list of known ones.
    pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.only = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Runs every service except these. An unknown name makes [`build`](Self::build) fail.
    pub fn except<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.except.extend(names.into_iter().map(Into::into));
        self
    }

    /// The bound on the whole shutdown, from the stop request until every service has stopped or
    /// was aborted (default 30 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Whether SIGINT/SIGTERM (Ctrl+C elsewhere) stop the host (default `true`). A second signal
    /// during shutdown exits the process at once with [`FORCED_EXIT_CODE`].
    pub fn catch_signals(mut self, yes: bool) -> Self {
        self.catch_signals = yes;
        self
    }

    /// The failure policy of every service that does not choose its own (default
    /// [`FailurePolicy::StopHost`]).
    pub fn on_failure(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Pins the wall-clock time at which the host's clock starts, for deterministic tests of cron
    /// schedules under tokio's paused clock.
    #[cfg(feature = "cron")]
    #[doc(hidden)]
    pub fn wall_clock_origin(mut self, at: jiff::Timestamp) -> Self {
        self.wall_origin = Some(at);
        self
    }

    /// Collects the services, rejects duplicate names, applies `only`/`except`, validates every
    /// schedule and sorts them into start order.
    pub fn build(self) -> Result<Host, Error> {
        let Builder {
            services,
            discover,
            only,
            except,
            shutdown_timeout,
            catch_signals,
            policy,
            wall_origin,
        } = self;
        // Names and locations first: registered services are constructed only once selected, so
        // a constructor with side effects never runs for a service that will not.
        let registered: Vec<&'static Registration> = if discover {
            registry::registrations().collect()
        } else {
            Vec::new()
        };
        let entries = registered
            .iter()
            .map(|r| (r.name, r.location()))
            .chain(services.iter().map(|s| (&*s.name, s.location)));
        let mut seen: HashMap<&str, Location> = HashMap::with_capacity(registered.len() + services.len());
        for (name, location) in entries {
            if let Some(first) = seen.insert(name, location) {
                return Err(Error::DuplicateName {
                    name: name.to_owned(),
                    first,
                    second: location,
                });
            }
        }
        for name in only.iter().flatten().chain(&except) {
            if !seen.contains_key(name.as_str()) {
                let mut known: Vec<String> = seen.keys().map(|k| (*k).to_owned()).collect();
                known.sort();
                return Err(Error::UnknownService {
                    name: name.clone(),
                    known,
                });
            }
        }
        let only: Option<HashSet<&str>> = only.as_ref().map(|v| v.iter().map(String::as_str).collect());
        let except: HashSet<&str> = except.iter().map(String::as_str).collect();
        let selected = |name: &str| only.as_ref().is_none_or(|o| o.contains(name)) && !except.contains(name);
        let mut all: Vec<Service> = registered
            .iter()
            .filter(|r| selected(r.name))
            .map(|r| r.build())
            .collect();
        all.extend(services.into_iter().filter(|s| selected(&s.name)));

        for s in &mut all {
            s.slot.prepare().map_err(|source| Error::InvalidSchedule {
                service: s.name.to_string(),
                source,
            })?;
        }
        all.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.name.cmp(&b.name)));

        let handle = HostHandle::new(wall_origin.map(|w| (w, Instant::now())), shutdown_timeout); // issue-13: + timeout
        handle.queues().register(&all); // issue-13: the work queues, for `HostHandle::queue`
        Ok(Host {
            services: all,
            handle,
            shutdown_timeout,
            catch_signals,
            policy,
        })
    }
}

/// A configured host, ready to [`run`](Host::run).
#[must_use = "a Host does nothing until `.run().await`"]
pub struct Host {
    services: Vec<Service>,
    handle: HostHandle,
    shutdown_timeout: Duration,
    catch_signals: bool,
    policy: FailurePolicy,
}

impl Host {
    /// A builder with the defaults: registered services, 30 s shutdown timeout, signals caught,
    /// `stop-host` on failure.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A handle to this host, usable before and while it runs.
    pub fn handle(&self) -> HostHandle {
        self.handle.clone()
    }

    /// The services in start order.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| &*s.name)
    }

    /// Starts every service in order, runs until a stop is requested, then shuts down within the
    /// timeout.
    ///
    /// - **Start**: services start in ascending `order`, then by name. Each start hook is awaited;
    ///   then the service's body is spawned on its own task. A start hook that fails (or panics)
    ///   aborts start-up: the services already started are stopped in reverse order.
    /// - **Run**: until SIGINT/SIGTERM, [`HostHandle::stop`], or a failure under `stop-host`.
    /// - **Stop**: every token is cancelled at once; then, in reverse start order, the host awaits
    ///   each service's body and runs its stop hook. A service's hook thus waits only for the
    ///   bodies of services started after it (which may depend on it). Whatever is still running
    ///   at the timeout is aborted, and named in the log and in [`Error::ShutdownTimeout`]
    ///   (together with services whose hook had no time left).
    ///
    /// Returns the [`Report`] when every service stopped cleanly, otherwise the [`Error`] (which
    /// carries the report).
    pub async fn run(self) -> Result<Report, Error> {
        let Host {
            services,
            handle,
            shutdown_timeout,
            catch_signals,
            policy: default_policy,
        } = self;
        let mut signals = if catch_signals {
            match Signals::new() {
                Ok(s) => Some(s),
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for shutdown signals; stop the host through its handle");
                    None
                }
            }
        } else {
            None
        };

        // The services' tokens descend from the stop token: `HostHandle::stop()` (and so a
        // signal or a failure) cancels every service at once, before the host's task even wakes,
        // so no run starts after a stop was requested.
        let root = handle.inner.stop.child_token();
        let mut shared = Vec::with_capacity(services.len());
        let mut pending = Vec::with_capacity(services.len());
        for s in services {
            shared.push(Arc::new(ServiceShared {
                name: s.name,
                token: root.child_token(),
                host: handle.clone(),
                status: StatusCell::new(s.kind),
            }));
            pending.push((s.slot, s.policy.unwrap_or(default_policy)));
        }
        let shared: Arc<[Arc<ServiceShared>]> = shared.into();
        handle.set_services(shared.clone());

        // ---- start ----
        handle.set_phase(Phase::Starting);
        tracing::info!(services = shared.len(), "host starting");
        // One handle per started service, in start order: the shutdown awaits them by index.
        let mut tasks: Vec<Option<JoinHandle<Done>>> = Vec::with_capacity(shared.len());
        let mut reason = None;
        for (i, (svc, (mut slot, policy))) in shared.iter().zip(pending).enumerate() {
            if handle.is_stop_requested() {
                break;
            }
            let span = service_span(svc);
            let ctx = Context::new(svc.clone());
            svc.status.set_state(State::Starting);
            tracing::info!(parent: &span, "starting");
            // Periodic services have no hooks: no hook future, no race with a stop request.
            let result = if svc.status.kind == ServiceKind::Periodic {
                Ok(())
            } else {
                let hook = panic::catch(slot.start(&ctx)).instrument(span.clone());
                tokio::select! {
                    biased;
                    signal = wait_for_stop(&handle, &mut signals) => {
                        reason = Some(signal);
                        break;
                    }
                    r = hook => r,
                }
            };
            if let Err(failure) = result {
                tracing::error!(parent: &span, error = %failure, "start hook failed; stopping the services already started");
                svc.status.set_state(State::Failed);
                handle.stop();
                let report = shutdown(Shutdown {
                    handle: &handle,
                    shared: &shared,
                    tasks,
                    root: &root,
                    timeout: shutdown_timeout,
                    signals: &mut signals,
                    reason: StopReason::StartFailed(svc.name.to_string()),
                    failed_start: Some(i),
                })
                .await;
                return Err(Error::StartFailed {
                    service: svc.name.to_string(),
                    source: failure,
                    report: Box::new(report),
                });
            }
            tracing::info!(parent: &span, "started");
            tasks.push(Some(slot.spawn(Task { ctx, policy, span })));
        }
        let started = tasks.len();

        // ---- run ----
        let reason = match reason {
            Some(r) => r,
            None => {
                if !handle.is_stop_requested() {
                    handle.set_phase(Phase::Started);
                    tracing::info!(
                        services = started,
                        "host started; press Ctrl+C or send SIGTERM to shut down"
                    );
                }
                wait_for_stop(&handle, &mut signals).await
            }
        };

        // ---- stop ----
        let report = shutdown(Shutdown {
            handle: &handle,
            shared: &shared,
            tasks,
            root: &root,
            timeout: shutdown_timeout,
            signals: &mut signals,
            reason,
            failed_start: None,
        })
        .await;

        let failures = handle.take_failures();
        if !failures.is_empty() {
            return Err(Error::ServiceFailed {
                failures,
                report: Box::new(report),
            });
        }
        let stragglers: Vec<String> = report.with_outcome(Outcome::Aborted).map(str::to_owned).collect();
        if !stragglers.is_empty() {
            // Reverse start order: the order the host tried to stop them in.
            let stragglers = stragglers.into_iter().rev().collect();
            return Err(Error::ShutdownTimeout {
                timeout: shutdown_timeout,
                stragglers,
                report: Box::new(report),
            });
        }
        Ok(report)
    }
}

/// The span every log line of a service is in (created again where needed rather than kept per
/// service for the host's whole life).
fn service_span(service: &ServiceShared) -> Span {
    tracing::info_span!("service", name = %service.name)
}

/// Waits for a stop request or a signal; a signal also marks the host as stopping.
async fn wait_for_stop(handle: &HostHandle, signals: &mut Option<Signals>) -> StopReason {
    let signal = async {
        match signals {
            Some(s) => s.recv().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        name = signal => {
            tracing::info!(signal = name, "signal received; shutting down gracefully");
            handle.stop();
            StopReason::Signal(name)
        }
        _ = handle.stop_requested() => {
            match handle.inner.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).first() {
                Some(f) => StopReason::ServiceFailed(f.service.clone()),
                None => StopReason::Requested,
            }
        }
    }
}

struct Shutdown<'a> {
    handle: &'a HostHandle,
    shared: &'a [Arc<ServiceShared>],
    /// The tasks of the services that started, in start order.
    tasks: Vec<Option<JoinHandle<Done>>>,
    root: &'a CancellationToken,
    timeout: Duration,
    signals: &'a mut Option<Signals>,
    reason: StopReason,
    /// The service whose start hook failed, if any.
    failed_start: Option<usize>,
}

/// The one shutdown path: cancel, await bodies, stop hooks in reverse order, abort the rest; all
/// before the deadline. A second signal meanwhile exits the process at once.
async fn shutdown(sd: Shutdown<'_>) -> Report {
    let Shutdown {
        handle,
        shared,
        mut tasks,
        root,
        timeout,
        signals,
        reason,
        failed_start,
    } = sd;
    let begun = Instant::now();
    let deadline = begun + timeout;
    let started = tasks.len();
    let spans: Vec<Span> = shared[..started].iter().map(|s| service_span(s)).collect();
    handle.set_phase(Phase::Stopping);
    tracing::info!(reason = %reason, timeout = %humanize(timeout), "host stopping");
    let mut outcomes: Vec<Outcome> = vec![Outcome::NotStarted; shared.len()];
    for i in (0..started).rev() {
        shared[i].status.set_state(State::Stopping);
        tracing::info!(parent: &spans[i], "stopping");
    }
    if let Some(i) = failed_start {
        outcomes[i] = Outcome::Failed;
    }
    root.cancel();

    let forced = async {
        if let Some(s) = signals.as_mut() {
            let name = s.recv().await;
            tracing::error!(
                signal = name,
                code = FORCED_EXIT_CODE,
                "second signal during shutdown; exiting immediately"
            );
            std::process::exit(FORCED_EXIT_CODE);
        }
        std::future::pending::<()>().await
    };
    let mut forced = std::pin::pin!(forced);

    // In reverse start order: await the service's body, then run its stop hook. Every body was
    // cancelled at once and they end concurrently, so a service's hook waits only for the bodies
    // of the services started after it (the ones that may depend on it): a straggler holds back
    // the clean-up of what it may be using, never of what started after it. One timer for the
    // deadline serves every wait below.
    let mut deadline = std::pin::pin!(tokio::time::sleep_until(deadline));
    let mut out_of_time = false;
    for i in (0..started).rev() {
        let svc = &shared[i];
        let span = &spans[i];
        let mut finished = None;
        if let Some(task) = tasks[i].as_mut().filter(|_| !out_of_time) {
            tokio::select! {
                biased;
                _ = &mut forced => {}
                _ = &mut deadline => out_of_time = true,
                joined = task => match joined {
                    Ok(done) => finished = Some(done),
                    // Service code runs under `catch_unwind`: only an abort (or a host bug) gets here.
                    Err(error) => tracing::error!(parent: span, %error, "the service's task ended abnormally"),
                },
            }
        }
        if finished.is_some() || !out_of_time {
            tasks[i] = None;
        }
        let Some(Done { mut slot, exit }) = finished else {
            svc.status.set_state(State::Aborted);
            outcomes[i] = Outcome::Aborted;
            if out_of_time {
                tracing::warn!(parent: span, timeout = %humanize(timeout), "still running at the shutdown timeout; aborting");
            }
            continue;
        };
        if out_of_time && svc.status.kind != ServiceKind::Periodic {
            svc.status.set_state(State::Aborted);
            outcomes[i] = Outcome::Aborted;
            tracing::warn!(parent: span, timeout = %humanize(timeout), "stop hook skipped: the shutdown timeout ran out before its turn");
            continue;
        }
        let result = if svc.status.kind == ServiceKind::Periodic {
            Some(Ok(()))
        } else {
            let ctx = Context::new(svc.clone());
            let hook = panic::catch(slot.stop(&ctx)).instrument(span.clone());
            // The deadline wins ties: no hook runs past the timeout.
            tokio::select! {
                biased;
                _ = &mut forced => None,
                _ = &mut deadline => None,
                r = hook => Some(r),
            }
        };
        let failure = match result {
            None => {
                out_of_time = true;
                svc.status.set_state(State::Aborted);
                outcomes[i] = Outcome::Aborted;
                tracing::warn!(parent: span, timeout = %humanize(timeout), "stop hook still running at the shutdown timeout; aborted");
                continue;
            }
            Some(result) => result.err(),
        };
        if let Some(failure) = failure {
            tracing::error!(parent: span, error = %failure, "stop hook failed");
            svc.status.failed(failure.to_string());
            handle.report_failure(
                crate::error::ServiceFailure {
                    service: svc.name.to_string(),
                    failure,
                },
                true,
            );
            svc.status.set_state(State::Failed);
            outcomes[i] = Outcome::Failed;
            continue;
        }
        let failed = exit == Exit::Failed;
        svc.status
            .set_state(if failed { State::Failed } else { State::Stopped });
        outcomes[i] = if failed { Outcome::Failed } else { Outcome::Stopped };
        tracing::info!(parent: span, "stopped");
    }

    // Abort what is left; the tasks are dropped at their next await point.
    for task in tasks.iter().flatten() {
        task.abort();
    }

    let elapsed = begun.elapsed();
    let services = shared
        .iter()
        .zip(outcomes)
        .map(|(s, outcome)| ServiceReport {
            name: s.name.to_string(),
            outcome,
        })
        .collect::<Vec<_>>();
    let report = Report {
        reason,
        services,
        shutdown: elapsed,
    };
    let stopped = report.with_outcome(Outcome::Stopped).count();
    if report.is_clean() {
        tracing::info!(stopped, elapsed = ?elapsed, "host stopped");
    } else {
        let names = |o: Outcome| report.with_outcome(o).collect::<Vec<_>>().join(", ");
        let (failed, aborted) = (names(Outcome::Failed), names(Outcome::Aborted));
        tracing::warn!(stopped, failed, aborted, elapsed = ?elapsed, "host stopped");
    }
    handle.set_phase(Phase::Stopped);
    handle.set_services(Arc::from([]));
    report
}
