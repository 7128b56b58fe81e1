//! The periodic loop: one task per periodic service, one reusable timer, no allocation, scan or
//! shared lock per tick.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

use crate::context::Context;
use crate::error::{BoxError, Failure};
use crate::panic;
use crate::runner::{Body, BoxFuture, Done, Slot, Task, spawn_supervised};
use crate::schedule::{MissedTicks, Schedule, ScheduleError, Tick, Trigger};
use crate::service::Job;
use crate::status::State;

pub(crate) fn slot(schedule: Schedule, job: impl Job) -> Box<dyn Slot> {
    Box::new(PeriodicSlot { job, schedule, runs: 0 })
}

struct PeriodicSlot<J> {
    job: J,
    schedule: Schedule,
    /// Runs so far; survives restarts.
    runs: u64,
}

impl<J: Job> Slot for PeriodicSlot<J> {
    fn prepare(&mut self) -> Result<(), ScheduleError> {
        self.schedule.validate()
    }

    fn start<'a>(&'a mut self, _ctx: &'a Context) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn stop<'a>(&'a mut self, _ctx: &'a Context) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn spawn(self: Box<Self>, task: Task) -> JoinHandle<Done> {
        spawn_supervised(self, task)
    }
}

impl<J: Job> Body for PeriodicSlot<J> {
    async fn run_once(&mut self, ctx: &Context) -> Result<(), Failure> {
        let PeriodicSlot { job, schedule, runs } = self;
        let shared = &*ctx.shared;
        let status = &shared.status;
        // By reference: everything that lives across the loop's awaits is stored in the task.
        let epoch = &shared.host.inner.epoch;
        let mut rng = (!schedule.jitter.is_zero()).then(fastrand::Rng::new);
        let mut timeline = Timeline::new(schedule, Instant::now(), shared.host.wall_origin());
        let mut cancelled = pin!(shared.token.cancelled());
        // The loop's only timer: it waits for the next tick and, during a run with a timeout, is
        // that run's deadline.
        let mut sleep = pin!(tokio::time::sleep_until(Instant::now()));
        let mut consecutive_failures = 0u32;
        loop {
            let Some(due) = timeline.due else {
                tracing::info!("the schedule has no further runs");
                status.set_next_run(*epoch, None);
                return Ok(());
            };
            let fire_at = match &mut rng {
                Some(rng) => due + jitter(rng, schedule.jitter),
                None => due,
            };
            status.set_next_run(*epoch, Some(fire_at));
            status.set_state(State::Waiting);
            sleep.as_mut().reset(fire_at);
            // Cancellation first: no run starts once shutdown has begun.
            tokio::select! {
                biased;
                _ = &mut cancelled => {
                    status.set_next_run(*epoch, None);
                    return Ok(());
                }
                _ = &mut sleep => {}
            }
            let started = Instant::now();
            *runs += 1;
            let tick = Tick {
                run: *runs,
                scheduled: fire_at,
                started,
            };
            status.run_started(*epoch, started);
            // issue 12: each run is a span inside the service's span (no-op without a subscriber).
            let span = tracing::info_span!("run", run = *runs, scheduled = %crate::wallclock::Rfc3339(fire_at), lateness = ?tick.lateness());
            // The run's future lives in this loop's own state, pinned once where it is built: no
            // intermediate future around it, so nothing of it is copied or stored twice.
            let outcome = match schedule.timeout {
                None => {
                    let mut run = pin!(job.run(ctx, tick).instrument(span));
                    panic::into_failure(std::future::poll_fn(|cx| panic::poll_caught(run.as_mut(), cx)).await)
                }
                Some(limit) => {
                    // A token of the run's own, so that cancelling it at the timeout reaches
                    // whatever the run handed it to, without touching the service's token.
                    let run_ctx = Context {
                        shared: ctx.shared.clone(),
                        run_token: Some(ctx.shared.token.child_token()),
                    };
                    sleep.as_mut().reset(deadline(started, limit));
                    let finished = {
                        let mut run = pin!(job.run(&run_ctx, tick).instrument(span));
                        // The run first, then its deadline (as `tokio::time::timeout` polls).
                        std::future::poll_fn(|cx| match panic::poll_caught(run.as_mut(), cx) {
                            Poll::Ready(result) => Poll::Ready(Some(result)),
                            // Unconstrained: a run that used up the task's budget must not
                            // keep its deadline from firing.
                            Poll::Pending => Pin::new(&mut tokio::task::unconstrained(sleep.as_mut()))
                                .poll(cx)
                                .map(|()| None),
                        })
                        .await
                    };
                    match finished {
                        Some(result) => panic::into_failure(result),
                        // The run's future is dropped; now its token is cancelled.
                        None => {
                            run_ctx.token().cancel();
                            Err(Failure::Timeout(limit))
                        }
                    }
                }
            };
            let ended = Instant::now();
            status.run_ended(*epoch, ended);
            #[cfg(feature = "metrics")] // issue 12
            status
                .metrics
                .on_run_end(ended - started, Some(tick.lateness()), outcome.is_ok());
            match outcome {
                Ok(()) => consecutive_failures = 0,
                Err(failure) => {
                    consecutive_failures += 1;
                    tracing::error!(run = *runs, consecutive_failures, error = %failure, "run failed");
                    status.failed(failure.to_string());
                    status.set_consecutive_failures(consecutive_failures); // issue 12: the health rule
                    if schedule.max_failures.is_some_and(|max| consecutive_failures >= max) {
                        return Err(failure);
                    }
                }
            }
            status.set_consecutive_failures(consecutive_failures); // issue 12 (0 after a success)
            timeline.advance(ended);
        }
    }
}

/// `started + limit`, or a deadline that never comes when that does not fit in an `Instant`.
fn deadline(started: Instant, limit: Duration) -> Instant {
    started
        .checked_add(limit)
        .unwrap_or_else(|| started + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

fn jitter(rng: &mut fastrand::Rng, bound: Duration) -> Duration {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.u64(0..nanos))
}

/// A fixed wall-clock time for the host's epoch, set by tests; `None` reads the system clock.
pub(crate) type WallOrigin = Option<(WallTime, Instant)>;
#[cfg(feature = "cron")]
pub(crate) type WallTime = jiff::Timestamp;
#[cfg(not(feature = "cron"))]
pub(crate) type WallTime = std::convert::Infallible;

/// The due instants of one schedule.
struct Timeline<'s> {
    schedule: &'s Schedule,
    /// The next due instant (before jitter); `None` when the schedule has ended.
    due: Option<Instant>,
    /// Only cron schedules need the wall clock; boxed, so that the others do not carry it.
    #[cfg(feature = "cron")]
    clock: Option<Box<WallClock>>,
}

impl<'s> Timeline<'s> {
    fn new(schedule: &'s Schedule, now: Instant, origin: WallOrigin) -> Self {
        let first = now + schedule.initial_delay;
        #[cfg(not(feature = "cron"))]
        let _ = origin;
        #[cfg(feature = "cron")]
        let mut clock = None;
        let due = match &schedule.trigger {
            Trigger::Every(_) | Trigger::FixedDelay(_) => Some(first),
            #[cfg(feature = "cron")]
            Trigger::Cron(spec) => {
                let c = clock.insert(Box::new(WallClock::anchor(now, origin)));
                spec.next_after(c.wall(first)).map(|z| c.instant(z.timestamp()))
            }
        };
        Timeline {
            schedule,
            due,
            #[cfg(feature = "cron")]
            clock,
        }
    }

    /// Computes the next due instant after a run that ended at `ended`.
    fn advance(&mut self, ended: Instant) {
        let Some(due) = self.due else { return };
        let missed = self.schedule.missed;
        self.due = match &self.schedule.trigger {
            Trigger::FixedDelay(delay) => Some(ended + *delay),
            Trigger::Every(period) => {
                let next = due + *period;
                Some(if next >= ended {
                    next
                } else {
                    match missed {
                        MissedTicks::Burst => next,
                        MissedTicks::Delay => ended,
                        MissedTicks::Skip => {
                            // The first grid point at or after `ended`.
                            let behind = (ended - due).as_nanos();
                            let p = period.as_nanos();
                            let k = behind.div_ceil(p);
                            due + Duration::from_nanos(u64::try_from(p * k).unwrap_or(u64::MAX))
                        }
                    }
                })
            }
            #[cfg(feature = "cron")]
            Trigger::Cron(spec) => {
                let clock = self.clock.as_deref().expect("a cron timeline has a wall clock");
                let next = spec.next_after(clock.wall(due)).map(|z| clock.instant(z.timestamp()));
                match next {
                    Some(next) if next < ended => match missed {
                        MissedTicks::Burst => Some(next),
                        MissedTicks::Delay => Some(ended),
                        // The first occurrence at or after `ended`.
                        MissedTicks::Skip => spec
                            .next_after(clock.wall(ended) - jiff::SignedDuration::from_nanos(1))
                            .map(|z| clock.instant(z.timestamp())),
                    },
                    other => other,
                }
            }
        };
    }
}

/// Maps the monotonic clock the timers use to wall-clock time, anchored once when the service's
/// schedule starts (so a paused test clock and wall-clock jumps cannot make a cron job fire twice).
#[cfg(feature = "cron")]
struct WallClock {
    wall0: jiff::Timestamp,
    inst0: Instant,
}

#[cfg(feature = "cron")]
impl WallClock {
    fn anchor(now: Instant, origin: WallOrigin) -> Self {
        let wall0 = match origin {
            // A fixed origin (tests): the host's epoch was at `wall`.
            Some((wall, epoch)) => WallClock {
                wall0: wall,
                inst0: epoch,
            }
            .wall(now),
            None => jiff::Timestamp::now(),
        };
        WallClock { wall0, inst0: now }
    }

    fn wall(&self, at: Instant) -> jiff::Timestamp {
        let since = jiff::SignedDuration::try_from(at.saturating_duration_since(self.inst0))
            .unwrap_or(jiff::SignedDuration::MAX);
        self.wall0.saturating_add(since).unwrap_or(jiff::Timestamp::MAX)
    }

    fn instant(&self, wall: jiff::Timestamp) -> Instant {
        let ahead = wall.duration_since(self.wall0);
        self.inst0 + Duration::try_from(ahead).unwrap_or(Duration::ZERO)
    }
}
