//! The due instants of one schedule: where the next run falls, and what the missed-tick policy
//! does after a run that overran its period. Pure arithmetic on instants, unit-tested below.
//!
//! Invariants: `due` only moves forward; after `advance(ended)`, the next due instant of a
//! fixed-rate schedule is on the grid `first + k × period` (except under `Delay`, which restarts
//! the grid at `ended`), and no instant computation can panic (every sum saturates).

use std::time::Duration;

use tokio::time::Instant;

#[cfg(feature = "cron")]
use crate::clock::WallClock;
use crate::clock::{Stamp, WallOrigin, deadline};
use crate::schedule::{MissedTicks, Schedule, Trigger};

/// The due instants of one schedule (which its methods are given: a reference kept here would
/// take room in every periodic task).
pub(crate) struct Timeline {
    /// The next due instant (before jitter); `None` when the schedule has ended.
    due: Option<Instant>,
    /// `due` as the status stores it, stepped by integer addition where the next instant is the
    /// previous one plus a duration (no instant subtraction per run).
    stamp: Stamp,
    /// Only cron schedules need the wall clock; boxed, so that the others do not carry it.
    #[cfg(feature = "cron")]
    clock: Option<Box<WallClock>>,
}

impl Timeline {
    /// The timeline of `schedule` started at `now`; its stamps count from `epoch`.
    pub(crate) fn new(schedule: &Schedule, now: Instant, origin: WallOrigin, epoch: Instant) -> Self {
        let first = deadline(now, schedule.opts().initial_delay);
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
            due,
            stamp: Stamp::of(epoch, due),
            #[cfg(feature = "cron")]
            clock,
        }
    }

    /// The next due instant (before jitter); `None` once the schedule has no further runs.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// [`due`](Self::due) as the status stores it.
    pub(crate) fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// Computes the next due instant after a run that ended at `ended` (stamped `ended_stamp`,
    /// from `epoch`).
    pub(crate) fn advance(&mut self, schedule: &Schedule, ended: Instant, ended_stamp: Stamp, epoch: Instant) {
        let Some(due) = self.due else { return };
        // The common cases step the stamp by an integer addition; the others stamp the new
        // instant (a subtraction).
        let (next, stamp) = match &schedule.trigger {
            Trigger::FixedDelay(delay) => match ended.checked_add(*delay) {
                Some(next) => (Some(next), Some(ended_stamp.after(*delay))),
                None => (Some(deadline(ended, *delay)), None),
            },
            Trigger::Every(period) => match due.checked_add(*period) {
                Some(next) if next >= ended => (Some(next), Some(self.stamp.after(*period))),
                _ => (Some(next_on_grid(due, *period, ended, schedule.opts().missed)), None),
            },
            #[cfg(feature = "cron")]
            Trigger::Cron(spec) => {
                let Some(clock) = self.clock.as_deref() else {
                    return;
                };
                let next = spec.next_after(clock.wall(due)).map(|z| clock.instant(z.timestamp()));
                let next = match next {
                    Some(next) if next < ended => match schedule.opts().missed {
                        MissedTicks::Burst => Some(next),
                        MissedTicks::Delay => Some(ended),
                        // The first occurrence at or after `ended`.
                        MissedTicks::Skip => spec
                            .next_after(clock.wall(ended) - jiff::SignedDuration::from_nanos(1))
                            .map(|z| clock.instant(z.timestamp())),
                    },
                    other => other,
                };
                (next, None)
            }
        };
        self.due = next;
        self.stamp = stamp.unwrap_or_else(|| Stamp::of(epoch, next));
    }
}

/// The fixed-rate step: the grid point after `due`, or what `missed` makes of it when a run that
/// ended at `ended` overran it.
fn next_on_grid(due: Instant, period: Duration, ended: Instant, missed: MissedTicks) -> Instant {
    let next = deadline(due, period);
    if next >= ended {
        return next;
    }
    match missed {
        MissedTicks::Burst => next,
        MissedTicks::Delay => ended,
        MissedTicks::Skip => {
            // The first grid point at or after `ended`.
            let behind = (ended - due).as_nanos();
            let k = behind.div_ceil(period.as_nanos().max(1));
            let ahead = period.as_nanos().saturating_mul(k);
            deadline(due, Duration::from_nanos(u64::try_from(ahead).unwrap_or(u64::MAX)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Due instants (seconds after start) of a timeline whose runs take `took(run)`.
    fn runs(schedule: &Schedule, count: usize, took: impl Fn(usize) -> Duration) -> Vec<u64> {
        let t0 = Instant::now();
        let mut timeline = Timeline::new(schedule, t0, None, t0);
        let mut now = t0;
        let mut out = Vec::new();
        for i in 0..count {
            let Some(due) = timeline.due() else { break };
            now = now.max(due);
            out.push((now - t0).as_secs());
            now += took(i);
            timeline.advance(schedule, now, Stamp::of(t0, Some(now)), t0);
            // The stamp stepped by integer arithmetic is the one a subtraction would give.
            assert_eq!(timeline.stamp(), Stamp::of(t0, timeline.due()), "{schedule:?} run {i}");
        }
        out
    }

    fn first_takes_25s(i: usize) -> Duration {
        if i == 0 { s(25) } else { s(1) }
    }

    #[test]
    fn fixed_rate_stays_on_its_grid() {
        assert_eq!(runs(&Schedule::every(s(10)), 4, |_| s(3)), [0, 10, 20, 30]);
    }

    #[test]
    fn skip_drops_missed_ticks_and_returns_to_the_grid() {
        let every = Schedule::every(s(10)).missed_ticks(MissedTicks::Skip);
        assert_eq!(runs(&every, 3, first_takes_25s), [0, 30, 40]);
    }

    #[test]
    fn burst_runs_every_missed_tick_back_to_back() {
        let every = Schedule::every(s(10)).missed_ticks(MissedTicks::Burst);
        assert_eq!(runs(&every, 5, first_takes_25s), [0, 25, 26, 30, 40]);
    }

    #[test]
    fn delay_restarts_the_grid_at_the_late_run() {
        let every = Schedule::every(s(10)).missed_ticks(MissedTicks::Delay);
        assert_eq!(runs(&every, 4, first_takes_25s), [0, 25, 35, 45]);
    }

    #[test]
    fn a_run_ending_exactly_on_the_next_tick_misses_nothing() {
        let every = Schedule::every(s(10));
        assert_eq!(runs(&every, 3, |_| s(10)), [0, 10, 20]);
    }

    #[test]
    fn fixed_delay_waits_after_each_run() {
        let delay = Schedule::fixed_delay(s(10)).initial_delay(s(5));
        assert_eq!(runs(&delay, 3, |_| s(2)), [5, 17, 29]);
    }

    #[test]
    fn huge_periods_and_delays_saturate_instead_of_panicking() {
        let t0 = Instant::now();
        for schedule in [
            Schedule::every(Duration::MAX),
            Schedule::fixed_delay(Duration::MAX),
            Schedule::every(s(1)).initial_delay(Duration::MAX),
        ] {
            let mut timeline = Timeline::new(&schedule, t0, None, t0);
            timeline.advance(&schedule, t0 + s(1), Stamp::of(t0, Some(t0 + s(1))), t0);
            assert_eq!(timeline.stamp(), Stamp::of(t0, timeline.due()), "{schedule:?}");
            let due = timeline.due().unwrap();
            assert!(due > t0 + s(60 * 60 * 24 * 365), "{schedule:?}");
        }
        // Skip over a long stall with a huge period: no overflow in the grid arithmetic.
        assert!(next_on_grid(t0, Duration::MAX, t0 + s(5), MissedTicks::Skip) > t0 + s(5));
        assert_eq!(next_on_grid(t0, s(10), t0 + s(95), MissedTicks::Skip), t0 + s(100));
    }
}
