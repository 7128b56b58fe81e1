//! The one shutdown path: cancel every service, let the bodies drain, run the stop hooks in
//! reverse start order, abort what overruns its share of the timeout, and build the [`Report`].
//!
//! The timeout `T` is split in two: bodies (and the stop hooks whose turn comes meanwhile) have
//! until `¾·T`; whatever still runs then is a straggler, aborted and named, and the last quarter is
//! reserved for the stop hooks of the services started before the stragglers, so that one service
//! ignoring its token cannot starve the clean-up of everything it depends on. At `T` whatever still
//! runs is aborted and named; stop hooks whose turn never came are reported as skipped.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::clock::{deadline, fraction};
use crate::context::ServiceShared;
use crate::error::humanize;
use crate::handle::{HostHandle, Phase};
use crate::report::{Outcome, Report, ServiceReport, StopReason};
use crate::status::{Stage, State};
use crate::supervisor::{Exit, Spawned};

/// What the shutdown needs from the host's run.
pub(crate) struct Shutdown<'a> {
    pub(crate) handle: &'a HostHandle,
    pub(crate) shared: &'a [Arc<ServiceShared>],
    /// The tasks of the services that were spawned, in start order.
    pub(crate) tasks: Vec<Spawned>,
    /// The stop-hook turns of the services with hooks, by index in `tasks`, in start order.
    pub(crate) turns: Vec<(usize, tokio::sync::oneshot::Sender<()>)>,
    pub(crate) timeout: Duration,
    pub(crate) reason: StopReason,
}

/// Runs the shutdown; returns the report and the tasks it aborted (which may still be running if
/// they block their thread: the watchdog watches them).
pub(crate) async fn run(sd: Shutdown<'_>) -> (Report, Summary, Vec<(Arc<str>, AbortHandle)>) {
    let Shutdown {
        handle,
        shared,
        mut tasks,
        mut turns,
        timeout,
        reason,
    } = sd;
    let begun = Instant::now();
    let drain_end = deadline(begun, fraction(timeout, 3, 4));
    let end = deadline(begun, timeout);
    handle.set_phase(Phase::Stopping);
    tracing::info!(reason = %reason, timeout = %humanize(timeout), "host stopping");
    let spawned = tasks.len();
    let mut outcomes: Vec<Outcome> = vec![Outcome::NotStarted; shared.len()];
    // A service still running shows as stopping from now on: the status snapshot derives it from
    // the phase (a write here, per service, would race with the service's own last state).
    #[cfg(feature = "metrics")]
    for svc in &shared[..spawned] {
        if svc.status.stage() != Stage::Done {
            svc.status.metrics.on_state(State::Stopping);
        }
    }
    if tracing::enabled!(tracing::Level::INFO) {
        for svc in shared[..spawned].iter().rev() {
            tracing::info!(parent: &svc.span(), "stopping");
        }
    }
    // Usually cancelled already by the stop request; the run's drop guard relies on this too.
    handle.cancel_services();

    let mut aborted: Vec<(Arc<str>, AbortHandle)> = Vec::new();
    let mut abort = |i: usize, task: &Spawned, outcomes: &mut Vec<Outcome>, at: Duration| {
        let svc = &shared[i];
        let stage = svc.status.stage();
        task.join.abort();
        svc.status.set_state(State::Aborted);
        outcomes[i] = Outcome::Aborted;
        aborted.push((svc.name.clone(), task.join.abort_handle()));
        tracing::warn!(parent: &svc.span(), running = stage.describe(), after = %humanize(at), "still running at its shutdown deadline; aborted");
    };

    // In reverse start order: give the service its stop hook's turn (every service started after
    // it is done), then wait for its task. One timer serves every wait.
    let mut timer = std::pin::pin!(tokio::time::sleep_until(drain_end));
    let mut reserve = false;
    let mut i = spawned;
    while i > 0 {
        i -= 1;
        if outcomes[i] == Outcome::Aborted {
            continue;
        }
        let task = &mut tasks[i];
        // Turns of later services are gone by now (given, or their service was aborted).
        while turns.last().is_some_and(|(at, _)| *at > i) {
            turns.pop();
        }
        if turns.last().is_some_and(|(at, _)| *at == i)
            && let Some((_, turn)) = turns.pop()
        {
            let _ = turn.send(());
        }
        tokio::select! {
            biased;
            joined = &mut task.join => {
                outcomes[i] = outcome(joined);
                log_end(&shared[i], outcomes[i]);
                // Its task torn down now, while later ones may still be ending.
                tasks.truncate(i);
                continue;
            }
            _ = &mut timer => {}
        }
        if !reserve {
            // ¾·T: this service and every earlier one still in its body are the stragglers; the
            // stop hooks of the others get the reserve.
            reserve = true;
            abort(i, &tasks[i], &mut outcomes, fraction(timeout, 3, 4));
            for j in (0..i).rev() {
                if shared[j].status.stage() == Stage::Body && !tasks[j].join.is_finished() {
                    abort(j, &tasks[j], &mut outcomes, fraction(timeout, 3, 4));
                }
            }
            timer.as_mut().reset(end);
            continue;
        }
        // T: this one is aborted; the hooks that never got their turn are skipped.
        abort(i, &tasks[i], &mut outcomes, timeout);
        let mut skipped = Vec::new();
        for j in (0..i).rev() {
            if outcomes[j] == Outcome::Aborted {
                continue;
            }
            let task = &mut tasks[j];
            if task.join.is_finished() {
                outcomes[j] = outcome((&mut task.join).await);
                log_end(&shared[j], outcomes[j]);
            } else {
                task.join.abort();
                shared[j].status.set_state(State::Aborted);
                outcomes[j] = Outcome::HookSkipped;
                skipped.push(shared[j].name.to_string());
            }
        }
        if !skipped.is_empty() {
            tracing::warn!(services = %skipped.join(", "), "stop hooks skipped: the shutdown timeout ran out before their turn");
        }
        break;
    }

    // One pass over the services: the report's entries and what the summary line needs.
    let mut summary = Summary::default();
    let services = shared
        .iter()
        .zip(outcomes)
        .map(|(s, outcome)| {
            let entry = ServiceReport {
                name: s.name.clone(),
                outcome,
                runs: s.status.runs(),
                failed_runs: s.status.failures(),
                queue: handle.queues().stats(&s.name).map(Box::new),
            };
            summary.count(&entry);
            entry
        })
        .collect::<Vec<_>>();
    handle.set_phase(Phase::Stopped);
    handle.set_services(Arc::from([]));
    // The teardown of the tasks' handles belongs to the shutdown too: done here, not in the caller.
    drop(tasks);
    let report = Report {
        reason,
        services,
        // Set by the host's run once everything is torn down.
        shutdown: Duration::ZERO,
    };
    (report, summary, aborted)
}

/// What the shutdown's last log line and the host's result need from the report, counted while
/// it is built (a host of 100 000 services should not walk its report once per question).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Summary {
    pub(crate) stopped: usize,
    /// Services that ended otherwise than stopped or not started.
    pub(crate) unclean: usize,
    pub(crate) aborted: usize,
    /// Services with failed runs.
    pub(crate) with_failed_runs: usize,
}

impl Summary {
    fn count(&mut self, entry: &ServiceReport) {
        match entry.outcome {
            Outcome::Stopped => self.stopped += 1,
            Outcome::NotStarted => {}
            Outcome::Aborted => {
                self.aborted += 1;
                self.unclean += 1;
            }
            Outcome::Failed | Outcome::HookSkipped => self.unclean += 1,
        }
        if entry.failed_runs > 0 {
            self.with_failed_runs += 1;
        }
    }
}

/// The shutdown's last log line; the report's time is final.
pub(crate) fn log_summary(report: &Report, summary: Summary) {
    let elapsed = report.shutdown;
    let stopped = summary.stopped;
    if summary.unclean == 0 && summary.with_failed_runs == 0 {
        tracing::info!(stopped, elapsed = ?elapsed, "host stopped");
        return;
    }
    let failed_runs = report.failed_runs().collect::<Vec<_>>().join(", ");
    if summary.unclean == 0 {
        tracing::info!(stopped, failed_runs, elapsed = ?elapsed, "host stopped");
    } else {
        let names = |o: Outcome| report.with_outcome(o).collect::<Vec<_>>().join(", ");
        let (failed, aborted, skipped) = (
            names(Outcome::Failed),
            names(Outcome::Aborted),
            names(Outcome::HookSkipped),
        );
        tracing::warn!(stopped, failed, aborted, skipped, failed_runs, elapsed = ?elapsed, "host stopped");
    }
}

fn outcome(joined: Result<Exit, tokio::task::JoinError>) -> Outcome {
    match joined {
        Ok(Exit::Stopped) => Outcome::Stopped,
        Ok(Exit::NotStarted) => Outcome::NotStarted,
        Ok(Exit::Failed | Exit::StartFailed) => Outcome::Failed,
        // The task catches every panic of the service; only an abort by someone else gets here.
        Err(_) => Outcome::Failed,
    }
}

fn log_end(svc: &ServiceShared, outcome: Outcome) {
    if outcome == Outcome::Stopped {
        tracing::info!(parent: &svc.span(), "stopped");
    }
}
