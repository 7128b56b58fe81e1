//! The shutdown report: how every service ended and how long shutdown took.

use std::fmt;
use std::time::Duration;

/// Why the host stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// A signal arrived (`SIGINT`, `SIGTERM`, `Ctrl+C`).
    Signal(&'static str),
    /// [`HostHandle::stop`](crate::HostHandle::stop) was called.
    Requested,
    /// A service failed under the `stop-host` policy.
    ServiceFailed(String),
    /// A service's start hook failed.
    StartFailed(String),
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Signal(s) => write!(f, "{s} received"),
            StopReason::Requested => f.write_str("stop requested"),
            StopReason::ServiceFailed(s) => write!(f, "service `{s}` failed"),
            StopReason::StartFailed(s) => write!(f, "service `{s}` failed to start"),
        }
    }
}

/// How one service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Its body and stop hook returned within the timeout.
    Stopped,
    /// It failed (body, stop hook, or restart intensity) and was not restarted.
    Failed,
    /// It was still running at its shutdown deadline (a body that ignored its token, or a stop
    /// hook that did not return) and was aborted.
    Aborted,
    /// Its body ended, but the shutdown timeout ran out before its stop hook's turn came (a stop
    /// hook of a service started after it used the time up); the hook never ran.
    HookSkipped,
    /// It never started (start-up was cut short).
    NotStarted,
}

/// One service's line in the [`Report`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServiceReport {
    /// The service's name.
    ///
    /// Shared with the host (building the report copies no name).
    pub name: std::sync::Arc<str>,
    /// How it ended.
    pub outcome: Outcome,
    /// Runs started (periodic services; for a hosted service, how often its body started).
    pub runs: u64,
    /// Failed runs (errors, panics, timeouts) over the host's life.
    pub failed_runs: u64,
    /// A work queue's final counters: what it processed, dead-lettered and handed back to its
    /// leftovers hook; `None` for other services.
    ///
    /// Boxed: most services are not queues, and the counters inline would more than double every
    /// entry of a report that has one per service (100 000 of them in a large host, allocated
    /// inside the shutdown its caller waits for).
    pub queue: Option<Box<crate::queue::QueueStats>>,
}

/// What happened at shutdown: returned by [`Host::run`](crate::Host::run), carried by the
/// [`Error`](crate::Error) variants that happen after start-up, and logged.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// Why the host stopped.
    pub reason: StopReason,
    /// Every service, in start order.
    pub services: Vec<ServiceReport>,
    /// From the stop request until [`Host::run`](crate::Host::run) returned: every service stopped
    /// or aborted, and the host's own teardown done (the span its caller waited).
    pub shutdown: Duration,
}

impl Report {
    /// The services with the given outcome, in start order.
    pub fn with_outcome(&self, outcome: Outcome) -> impl Iterator<Item = &str> {
        self.services
            .iter()
            .filter(move |s| s.outcome == outcome)
            .map(|s| &*s.name)
    }

    /// The services with failed runs, as `name (failed/runs)`, in start order: what the final log
    /// line shows, since a periodic service whose runs fail keeps running (and exits 0) unless it
    /// sets `max_failures`.
    pub fn failed_runs(&self) -> impl Iterator<Item = String> + '_ {
        self.services
            .iter()
            .filter(|s| s.failed_runs > 0)
            .map(|s| format!("{} ({}/{})", s.name, s.failed_runs, s.runs))
    }

    /// Whether every service that started also stopped cleanly.
    pub fn is_clean(&self) -> bool {
        self.services
            .iter()
            .all(|s| matches!(s.outcome, Outcome::Stopped | Outcome::NotStarted))
    }
}

#[cfg(test)]
mod size {
    /// A report has an entry per service, allocated inside the shutdown: its size is part of the
    /// time the caller of `run()` waits (104 bytes with the queue counters inline).
    #[test]
    fn a_report_entry_stays_small() {
        let size = std::mem::size_of::<super::ServiceReport>();
        assert!(size <= 48, "a report entry grew to {size} bytes");
    }
}
