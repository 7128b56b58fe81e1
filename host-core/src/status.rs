//! The status snapshot: what every service is doing, read without slowing any of them.

use crate::clock::Stamp;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, PoisonError};

use once_cell::race::OnceBox;

use tokio::time::Instant;

/// What kind of service this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceKind {
    /// A [`HostedService`](crate::HostedService): hooks and/or a long-running body.
    Hosted,
    /// A periodic service: a [`Job`](crate::Job) run on a [`Schedule`](crate::Schedule).
    Periodic,
}

/// Where a service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Registered, not started yet.
    Pending,
    /// Its start hook is running.
    Starting,
    /// Its body (or a periodic run) is running.
    Running,
    /// A periodic service between runs.
    Waiting,
    /// Waiting out a back-off before a restart.
    Restarting,
    /// Cancelled; its body or stop hook is finishing.
    Stopping,
    /// Ended cleanly (or its body completed and it has nothing left to do).
    Stopped,
    /// Ended with a failure that was not restarted.
    Failed,
    /// Still running when the shutdown timeout ran out: aborted.
    Aborted,
}

impl State {
    const ALL: [State; 9] = [
        State::Pending,
        State::Starting,
        State::Running,
        State::Waiting,
        State::Restarting,
        State::Stopping,
        State::Stopped,
        State::Failed,
        State::Aborted,
    ];
}

/// One service's status at the moment of the snapshot ([`HostHandle::status`](crate::HostHandle::status)).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServiceStatus {
    /// The service's name.
    pub name: String,
    /// Hosted or periodic.
    pub kind: ServiceKind,
    /// Where it is in its life.
    pub state: State,
    /// Periodic runs started (for a hosted service: how often its body started).
    pub runs: u64,
    /// Failed runs (errors, panics, timeouts).
    pub failures: u64,
    /// Restarts under the `restart` policy.
    pub restarts: u64,
    /// Failed periodic runs since the last successful one (0 after a success).
    pub consecutive_failures: u32,
    /// The text of the last failure.
    pub last_error: Option<String>,
    /// When the last run (or body) started.
    pub last_run_started: Option<Instant>,
    /// When the last run (or body) ended.
    pub last_run_ended: Option<Instant>,
    /// When the next periodic run is due.
    pub next_run: Option<Instant>,
    /// A periodic service's schedule as text (`every 30s, jitter 2s`: [`Schedule`](crate::Schedule)'s
    /// `Display`); `None` for a hosted service.
    pub schedule: Option<String>,
    /// A work queue's counters (depth, in flight, processed, failed, dead-lettered, handed back);
    /// `None` for other services.
    pub queue: Option<crate::queue::QueueStats>,
    /// Whether a singleton job can reach its coordination backend (`None`: not a
    /// singleton, or not tried yet).
    pub coordination: Option<crate::coordination::CoordinationState>,
}

/// Where a service's task is in its lifecycle; what the shutdown and the watchdog read to tell a
/// body that ignores its token from a service waiting for its stop hook's turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Stage {
    /// Not spawned yet.
    Pending,
    /// Its start hook runs.
    Starting,
    /// Its body runs (periodic: the schedule loop).
    Body,
    /// Its body has ended; it waits for its stop hook's turn.
    AwaitingStop,
    /// Its stop hook runs.
    StopHook,
    /// Its task has ended.
    Done,
}

impl Stage {
    const ALL: [Stage; 6] = [
        Stage::Pending,
        Stage::Starting,
        Stage::Body,
        Stage::AwaitingStop,
        Stage::StopHook,
        Stage::Done,
    ];

    /// How the shutdown log names what was still running.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Stage::Pending => "not started",
            Stage::Starting => "start hook",
            Stage::Body => "body",
            Stage::AwaitingStop => "waiting for its stop hook",
            Stage::StopHook => "stop hook",
            Stage::Done => "ended",
        }
    }
}

/// The per-service counters behind [`ServiceStatus`]: atomics written with relaxed stores.
pub(crate) struct StatusCell {
    pub(crate) kind: ServiceKind,
    state: AtomicU8,
    stage: AtomicU8,
    /// Set while the service's code is being polled (or a hook of it runs): a service whose flag
    /// stays set while the process cannot shut down is the one blocking its thread.
    pub(crate) busy: AtomicBool,
    /// Whether a [`Cancelled`](crate::Cancelled) future holds the service's waker slot
    /// (`ServiceShared::stop_waker`; a hosted service's only: the slot has room for one waker, so
    /// every other future waits on the token). Here rather than beside the slot: it fits in this
    /// cell's padding.
    pub(crate) waker_taken: AtomicBool,
    runs: AtomicU64,
    /// Nanoseconds since the host's epoch, plus one; 0 means "none".
    last_start: AtomicU64,
    last_end: AtomicU64,
    /// What only failures and restarts write, and a failure policy other than the default,
    /// allocated when first needed: most services never fail, and every service carries this
    /// cell for its whole life.
    failed: OnceBox<Failures>,
    /// A periodic service's schedule and next run, or a hosted service's next restart: made with
    /// the cell for a periodic service, at its first restart for a hosted one. Boxed: inline, they
    /// would cost every hosted service 40 bytes it rarely uses; the box costs a periodic service
    /// one more pointer followed per run.
    timing: OnceBox<Timing>,
    /// The service's metric handles, registered once (feature `metrics`).
    #[cfg(feature = "metrics")]
    pub(crate) metrics: crate::metrics::ServiceMetrics,
    /// 0 none, 1 available, 2 unavailable.
    coordination: AtomicU8,
}

/// When a service next runs, and by which schedule (see [`StatusCell`]'s `timing`).
#[derive(Default)]
struct Timing {
    schedule: Option<crate::Schedule>,
    /// Nanoseconds since the host's epoch, plus one; 0 means "none".
    next_run: AtomicU64,
}

impl StatusCell {
    pub(crate) fn new(
        name: &str,
        kind: ServiceKind,
        schedule: Option<crate::Schedule>,
        policy: crate::FailurePolicy,
    ) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = name;
        let failed = OnceBox::new();
        if policy != crate::FailurePolicy::default() {
            let _ = failed.set(Box::new(Failures {
                policy,
                ..Failures::default()
            }));
        }
        let timing = OnceBox::new();
        if let Some(schedule) = schedule {
            let _ = timing.set(Box::new(Timing {
                schedule: Some(schedule),
                next_run: AtomicU64::new(0),
            }));
        }
        StatusCell {
            kind,
            state: AtomicU8::new(State::Pending as u8),
            stage: AtomicU8::new(Stage::Pending as u8),
            busy: AtomicBool::new(false),
            waker_taken: AtomicBool::new(false),
            runs: AtomicU64::new(0),
            last_start: AtomicU64::new(0),
            last_end: AtomicU64::new(0),
            failed,
            timing,
            #[cfg(feature = "metrics")]
            metrics: crate::metrics::ServiceMetrics::new(name),
            coordination: AtomicU8::new(0),
        }
    }

    /// A periodic service's schedule.
    pub(crate) fn schedule(&self) -> Option<&crate::Schedule> {
        self.timing.get()?.schedule.as_ref()
    }

    pub(crate) fn set_state(&self, state: State) {
        self.state.store(state as u8, Relaxed);
        #[cfg(feature = "metrics")]
        self.metrics.on_state(state);
    }

    pub(crate) fn state(&self) -> State {
        State::ALL[usize::from(self.state.load(Relaxed))]
    }

    pub(crate) fn set_stage(&self, stage: Stage) {
        self.stage.store(stage as u8, Relaxed);
    }

    pub(crate) fn stage(&self) -> Stage {
        Stage::ALL[usize::from(self.stage.load(Relaxed))]
    }

    /// Whether a poll of this service's code is in progress.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Relaxed)
    }

    /// Failed runs so far.
    pub(crate) fn failures(&self) -> u64 {
        self.failed.get().map_or(0, |f| f.failures.load(Relaxed))
    }

    /// Runs so far.
    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(Relaxed)
    }

    pub(crate) fn run_started(&self, epoch: Instant, at: Instant) {
        // The service's own task is the only writer: a load and a store, no read-modify-write.
        self.runs.store(self.runs.load(Relaxed).saturating_add(1), Relaxed);
        self.last_start.store(Stamp::of(epoch, Some(at)).0, Relaxed);
        self.set_state(State::Running);
    }

    /// The last run's start.
    pub(crate) fn last_start(&self) -> Stamp {
        Stamp(self.last_start.load(Relaxed))
    }

    /// Records the run's end; returns its stamp.
    pub(crate) fn run_ended(&self, epoch: Instant, at: Instant) -> Stamp {
        let stamp = Stamp::of(epoch, Some(at));
        self.last_end.store(stamp.0, Relaxed);
        stamp
    }

    pub(crate) fn set_next_run(&self, at: Stamp) {
        match self.timing.get() {
            Some(timing) => timing.next_run.store(at.0, Relaxed),
            // "None" is what an absent cell reads as.
            None if at == Stamp::NONE => {}
            None => self.timing.get_or_init(Box::default).next_run.store(at.0, Relaxed),
        }
    }

    pub(crate) fn failed(&self, message: String) {
        let failed = self.failure_cell();
        failed.failures.fetch_add(1, Relaxed);
        *failed.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
    }

    pub(crate) fn set_consecutive_failures(&self, n: u32) {
        // A streak of 0 where nothing ever failed is what an absent cell reads as.
        if n != 0 || self.failed.get().is_some() {
            self.failure_cell().consecutive_failures.store(n, Relaxed);
        }
    }

    /// What a singleton job last saw of its coordination backend.
    pub(crate) fn set_coordination(&self, state: crate::coordination::CoordinationState) {
        self.coordination.store(state as u8, Relaxed);
    }

    pub(crate) fn restarted(&self) {
        self.failure_cell().restarts.fetch_add(1, Relaxed);
    }

    /// What happens when the service fails.
    pub(crate) fn policy(&self) -> crate::FailurePolicy {
        self.failed
            .get()
            .map_or_else(crate::FailurePolicy::default, |f| f.policy)
    }

    /// The failure counters, allocated on first use.
    fn failure_cell(&self) -> &Failures {
        self.failed.get_or_init(Box::default)
    }

    /// The status now; `stopping`: the host's shutdown has begun, so a service still running
    /// (started, not ended) shows as [`State::Stopping`].
    pub(crate) fn snapshot(&self, name: &str, epoch: Instant, stopping: bool) -> ServiceStatus {
        let failed = self.failed.get();
        let timing = self.timing.get();
        let state = match self.state() {
            State::Starting | State::Running | State::Waiting | State::Restarting
                if stopping && !matches!(self.stage(), Stage::Pending | Stage::Done) =>
            {
                State::Stopping
            }
            state => state,
        };
        ServiceStatus {
            name: name.to_owned(),
            kind: self.kind,
            state,
            runs: self.runs.load(Relaxed),
            failures: failed.map_or(0, |f| f.failures.load(Relaxed)),
            restarts: failed.map_or(0, |f| f.restarts.load(Relaxed)),
            consecutive_failures: failed.map_or(0, |f| f.consecutive_failures.load(Relaxed)),
            last_error: failed.and_then(|f| f.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone()),
            last_run_started: Stamp(self.last_start.load(Relaxed)).instant(epoch),
            last_run_ended: Stamp(self.last_end.load(Relaxed)).instant(epoch),
            next_run: timing.and_then(|t| Stamp(t.next_run.load(Relaxed)).instant(epoch)),
            schedule: timing.and_then(|t| t.schedule.as_ref()).map(ToString::to_string),
            queue: None,
            coordination: crate::coordination::CoordinationState::decode(self.coordination.load(Relaxed)),
        }
    }
}

/// The counters of failures and restarts, and the failure policy (see [`StatusCell`]).
#[derive(Default)]
struct Failures {
    policy: crate::FailurePolicy,
    failures: AtomicU64,
    restarts: AtomicU64,
    consecutive_failures: AtomicU32,
    last_error: Mutex<Option<String>>,
}
