//! Testing your services deterministically, in virtual time (feature `testing`, meant for
//! `[dev-dependencies]`).
//!
//! [`TestHost`] runs your services, discovered or built by hand and selected by name, under tokio's
//! paused clock, with a pinned wall clock for cron schedules: start it, advance by a duration or to
//! a wall-clock instant, and read what happened: every run (scheduled time, start, end, outcome),
//! the status snapshot, and the shutdown report. [`context`] and [`tick`] build what a job function
//! receives, to unit-test it on its own.
//!
//! ```toml
//! [dev-dependencies]
//! host-core = { version = "0.1", features = ["testing"] }
//! tokio = { version = "1", features = ["macros", "rt", "test-util"] }
//! ```
//!
//! # A periodic job runs 4 times in 95 s
//!
//! ```
//! use std::time::Duration;
//! use host::{Host, Schedule, Service};
//! use host::testing::TestHost;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), host::Error> {
//! // In a test: #[tokio::test(start_paused = true)]
//! let refresh = Service::periodic("refresh", Schedule::every(Duration::from_secs(30)), |_, _| async {});
//! let mut host = TestHost::start(Host::builder().discover(false).service(refresh)).await?;
//! host.advance(Duration::from_secs(95)).await;
//! let runs = host.runs("refresh");
//! assert_eq!(runs.len(), 4); // at 0, 30, 60 and 90 s
//! assert_eq!(host.elapsed(runs[3].started), Duration::from_secs(90));
//! assert!(host.stop().await?.is_clean());
//! # Ok(()) }
//! ```
//!
//! # A job overrunning its period with `missed_ticks = "skip"`
//!
//! ```
//! use std::time::Duration;
//! use host::{Host, MissedTicks, Schedule, Service, Tick};
//! use host::testing::TestHost;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), host::Error> {
//! let schedule = Schedule::every(Duration::from_secs(10)).missed_ticks(MissedTicks::Skip);
//! // The first run takes 25 s, the others 1 s.
//! let job = |_, tick: Tick| async move {
//!     let took = if tick.run() == 1 { 25 } else { 1 };
//!     tokio::time::sleep(Duration::from_secs(took)).await;
//! };
//! let mut host = TestHost::start(Host::builder().discover(false).service(Service::periodic("sync", schedule, job))).await?;
//! host.advance(Duration::from_secs(45)).await;
//! let starts: Vec<_> = host.runs("sync").iter().map(|r| host.elapsed(r.started).as_secs()).collect();
//! assert_eq!(starts, [0, 30, 40]); // the ticks due at 10 and 20 s were skipped
//! # host.stop().await?;
//! # Ok(()) }
//! ```
//!
//! # A nightly cron job on the daylight-saving nights
//!
//! ```
//! use host::{Host, Schedule, Service};
//! use host::jiff::Zoned;
//! use host::testing::TestHost;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let nightly = || Service::periodic("nightly", Schedule::cron("30 2 * * *").tz("Europe/Berlin"), |_, _| async {});
//!
//! // Spring forward (2026-03-29, 02:00 → 03:00): 02:30 does not exist; the job runs once, at 03:00.
//! let start = "2026-03-28T12:00[Europe/Berlin]".parse::<Zoned>()?.timestamp();
//! let mut host = TestHost::start_at(Host::builder().discover(false).service(nightly()), start).await?;
//! host.advance_to_wall("2026-03-29T12:00[Europe/Berlin]".parse::<Zoned>()?.timestamp()).await;
//! let runs = host.runs("nightly");
//! assert_eq!(runs.len(), 1);
//! assert_eq!(host.wall(runs[0].started).in_tz("Europe/Berlin")?.to_string(), "2026-03-29T03:00:00+02:00[Europe/Berlin]");
//! host.stop().await?;
//!
//! // Fall back (2026-10-25, 03:00 → 02:00): 02:30 happens twice; the job runs once, at the first.
//! let start = "2026-10-24T12:00[Europe/Berlin]".parse::<Zoned>()?.timestamp();
//! let mut host = TestHost::start_at(Host::builder().discover(false).service(nightly()), start).await?;
//! host.advance_to_wall("2026-10-25T12:00[Europe/Berlin]".parse::<Zoned>()?.timestamp()).await;
//! let runs = host.runs("nightly");
//! assert_eq!(runs.len(), 1);
//! assert_eq!(host.wall(runs[0].started).in_tz("Europe/Berlin")?.to_string(), "2026-10-25T02:30:00+02:00[Europe/Berlin]");
//! host.stop().await?;
//! # Ok(()) }
//! ```
//!
//! # A flaky service restarted with back-off until it escalates
//!
//! ```
//! use std::time::Duration;
//! use host::{BoxError, Context, Error, FailurePolicy, Host, HostedService, Restart, Service};
//! use host::testing::{TestHost, exit_code};
//!
//! struct Flaky;
//! impl HostedService for Flaky {
//!     async fn run(&mut self, _ctx: &Context) -> Result<(), BoxError> {
//!         tokio::time::sleep(Duration::from_secs(1)).await;
//!         Err("connection reset".into())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), host::Error> {
//! let policy = FailurePolicy::Restart(Restart::new().initial(Duration::from_secs(1)).max_restarts(3));
//! let host = TestHost::start(Host::builder().discover(false).service(Service::hosted("flaky", Flaky).on_failure(policy))).await?;
//! let t0 = host.started_at();
//! let result = host.wait().await; // runs until the failure stops the host
//! // Runs at 0, 2, 5 and 10 s (back-offs of 1, 2 and 4 s); the fourth failure escalates.
//! let runs = result.runs("flaky");
//! let starts: Vec<_> = runs.iter().map(|r| (r.started - t0).as_secs()).collect();
//! assert_eq!(starts, [0, 2, 5, 10]);
//! assert!(matches!(result.result, Err(Error::ServiceFailed { .. })));
//! assert_eq!(exit_code(&result.result), std::process::ExitCode::from(1));
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::builder::Builder;
use crate::context::{Context, ServiceShared};
use crate::error::{Error, Failure};
use crate::handle::{HostHandle, Phase};
use crate::report::Report;
use crate::schedule::Tick;
use crate::status::{ServiceKind, ServiceStatus, StatusCell};

/// One run of a service, as the test kit recorded it: a periodic run, or a hosted service's body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Run {
    /// The run number, from 1 (for a hosted service: its body's start count).
    pub run: u64,
    /// When it was due (jitter included); a hosted body's start.
    pub scheduled: Instant,
    /// When it started.
    pub started: Instant,
    /// When it ended.
    pub ended: Instant,
    /// `Ok`, or the failure's text (error, panic or timeout).
    pub outcome: Result<(), String>,
}

/// What the host records for the test kit, one entry per ended run.
#[derive(Default)]
pub(crate) struct Recorder {
    runs: Mutex<Vec<(Arc<str>, Run)>>,
}

impl Recorder {
    pub(crate) fn record(
        &self,
        service: &Arc<str>,
        run: u64,
        scheduled: Instant,
        started: Instant,
        outcome: &Result<(), Failure>,
    ) {
        let run = Run {
            run,
            scheduled,
            started,
            ended: Instant::now(),
            outcome: outcome.as_ref().map(drop).map_err(ToString::to_string),
        };
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((service.clone(), run));
    }

    fn runs(&self, service: &str) -> Vec<Run> {
        self.runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(name, _)| &**name == service)
            .map(|(_, run)| run.clone())
            .collect()
    }
}

/// A host running under tokio's paused clock, for tests (`#[tokio::test(start_paused = true)]`).
///
/// It never catches signals nor ends the process. See the [module docs](self) for worked
/// examples.
pub struct TestHost {
    handle: HostHandle,
    recorder: Arc<Recorder>,
    run: Running,
    started_at: Instant,
}

/// The host's run: still going, or already ended (it stopped by itself during start-up).
enum Running {
    Task(JoinHandle<Result<Report, Error>>),
    Ended(Result<Report, Error>),
}

/// How a [`TestHost`] ended: the run's result and what it recorded.
#[non_exhaustive]
pub struct Finished {
    /// What [`Host::run`](crate::Host::run) returned.
    pub result: Result<Report, Error>,
    recorder: Arc<Recorder>,
}

impl Finished {
    /// The runs of `service`, in order.
    pub fn runs(&self, service: &str) -> Vec<Run> {
        self.recorder.runs(service)
    }
}

impl TestHost {
    /// Builds and starts the host (without signal handling or hard exit), and returns once every
    /// service has started. The wall clock starts at the system's time; see
    /// [`start_at`](Self::start_at) to pin it.
    pub async fn start(builder: Builder) -> Result<TestHost, Error> {
        Self::launch(builder).await
    }

    /// Like [`start`](Self::start), with the wall clock pinned: the host starts at `wall` (cron
    /// schedules and [`advance_to_wall`](Self::advance_to_wall) use it).
    #[cfg(feature = "cron")]
    pub async fn start_at(builder: Builder, wall: jiff::Timestamp) -> Result<TestHost, Error> {
        Self::launch(builder.wall_clock_origin(wall)).await
    }

    async fn launch(builder: Builder) -> Result<TestHost, Error> {
        let host = builder.catch_signals(false).hard_exit(false).build()?;
        let handle = host.handle();
        let recorder = Arc::new(Recorder::default());
        handle.set_recorder(recorder.clone());
        let started_at = Instant::now();
        let mut run = tokio::spawn(host.run());
        let ended = tokio::select! {
            biased;
            _ = handle.wait_for(Phase::Started) => None,
            // Start-up failed, or the host stopped at once: hand its result over now.
            result = &mut run => Some(result),
        };
        let run = match ended {
            None => Running::Task(run),
            Some(result) => {
                let result = result.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                // A start-up error is the caller's at once; a host that stopped cleanly during
                // start-up is reported by `stop`/`wait`.
                Running::Ended(Ok(result?))
            }
        };
        let mut host = TestHost {
            handle,
            recorder,
            run,
            started_at,
        };
        host.settle(started_at).await;
        Ok(host)
    }

    /// The instant the host was started at.
    pub fn started_at(&self) -> Instant {
        self.started_at
    }

    /// How long after the start `at` is.
    pub fn elapsed(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.started_at)
    }

    /// The host's handle.
    pub fn handle(&self) -> &HostHandle {
        &self.handle
    }

    /// Advances the paused clock by `by`; see [`advance_to`](Self::advance_to).
    pub async fn advance(&mut self, by: Duration) {
        let to = crate::clock::deadline(Instant::now(), by);
        self.advance_to(to).await;
    }

    /// Advances the paused clock to `at`, exactly: every run due at or before `at` has started,
    /// and has completed unless it waits for a later instant itself (a run that sleeps past `at`
    /// is still running; advance further to see it end). Like every tokio timer, `at` has a
    /// resolution of 1 ms: it is rounded up to the next millisecond.
    pub async fn advance_to(&mut self, at: Instant) {
        tokio::time::sleep_until(at).await;
        self.settle(at).await;
    }

    /// Advances to the wall-clock time `wall` (the pinned wall clock of
    /// [`start_at`](Self::start_at)).
    #[cfg(feature = "cron")]
    pub async fn advance_to_wall(&mut self, wall: jiff::Timestamp) {
        let at = self.instant(wall);
        self.advance_to(at).await;
    }

    /// The wall-clock time of `at`.
    #[cfg(feature = "cron")]
    pub fn wall(&self, at: Instant) -> jiff::Timestamp {
        crate::clock::WallClock::anchor(self.handle.epoch(), self.handle.wall_origin()).wall(at)
    }

    /// The instant of the wall-clock time `wall`.
    #[cfg(feature = "cron")]
    pub fn instant(&self, wall: jiff::Timestamp) -> Instant {
        crate::clock::WallClock::anchor(self.handle.epoch(), self.handle.wall_origin()).instant(wall)
    }

    /// Lets every task that is ready at this instant run until none of the periodic services is
    /// still waiting for a tick due at or before `at`, then a few rounds more for what those runs
    /// set off. Deterministic on the current-thread runtime `#[tokio::test]` uses.
    async fn settle(&mut self, at: Instant) {
        const ROUNDS: usize = 16;
        let mut quiet = 0;
        while quiet < ROUNDS {
            tokio::task::yield_now().await;
            let due = self
                .handle
                .status()
                .iter()
                .any(|s| s.state == crate::State::Waiting && s.next_run.is_some_and(|next| next <= at));
            quiet = if due { 0 } else { quiet + 1 };
        }
    }

    /// The runs of `service` so far, in order.
    pub fn runs(&self, service: &str) -> Vec<Run> {
        self.recorder.runs(service)
    }

    /// The status snapshot.
    pub fn status(&self) -> Vec<ServiceStatus> {
        self.handle.status()
    }

    /// Stops the host (as [`HostHandle::stop`]) and returns what its run returned.
    pub async fn stop(self) -> Result<Report, Error> {
        self.handle.stop();
        self.wait().await.result
    }

    /// Stops the host at `at` (advancing the clock to it first).
    pub async fn stop_at(mut self, at: Instant) -> Result<Report, Error> {
        self.advance_to(at).await;
        self.stop().await
    }

    /// Waits until the host stops by itself (a failure under `stop-host`, a service calling
    /// `stop()`), letting the paused clock run.
    pub async fn wait(self) -> Finished {
        let result = match self.run {
            Running::Ended(result) => result,
            Running::Task(task) => match task.await {
                Ok(result) => result,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            },
        };
        Finished {
            result,
            recorder: self.recorder,
        }
    }
}

/// The exit code a process would end with for this result of [`Host::run`](crate::Host::run):
/// 0, or [`Error::exit_code`].
pub fn exit_code(result: &Result<Report, Error>) -> std::process::ExitCode {
    match result {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(error) => error.exit_code(),
    }
}

/// A [`Context`] for calling a service or job function directly in a unit test: named `service`,
/// with a token of its own (cancel it through [`Context::token`]) and a handle to a host that is
/// not running.
pub fn context(service: &str) -> Context {
    let handle = HostHandle::new(None, crate::DEFAULT_SHUTDOWN_TIMEOUT);
    let status = StatusCell::new(service, ServiceKind::Periodic, None, crate::FailurePolicy::StopHost);
    Context::new(Arc::new(ServiceShared::new(service.into(), handle, status)))
}

/// A [`Tick`] for calling a job function directly: run number `run`, due at `scheduled`,
/// starting now. Injected values are [`Dep::new`](crate::Dep::new).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use host::Dep;
/// use host::testing::{context, tick};
///
/// struct Pool { url: &'static str }
///
/// async fn refresh(ctx: host::Context, tick: host::Tick, pool: Dep<Pool>) -> Result<(), std::io::Error> {
///     assert_eq!(ctx.name(), "refresh");
///     assert_eq!(tick.run(), 3);
///     assert_eq!(pool.url, "postgres://test");
///     Ok(())
/// }
///
/// let pool = Dep::new(Pool { url: "postgres://test" });
/// refresh(context("refresh"), tick(3, tokio::time::Instant::now()), pool).await.unwrap();
/// # }
/// ```
pub fn tick(run: u64, scheduled: Instant) -> Tick {
    Tick {
        run,
        scheduled,
        started: Instant::now(),
        claim: None,
    }
}
