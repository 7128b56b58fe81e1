//! When a periodic service runs: [`Schedule`] (fixed rate, fixed delay, cron), [`MissedTicks`],
//! and the [`Tick`] each run receives; [`timeline`] turns a schedule into due instants, [`cron`]
//! steps cron expressions through time zones.

#[cfg(feature = "cron")]
pub mod cron;
mod timeline;

pub(crate) use timeline::Timeline;

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// When a periodic service runs.
///
/// ```
/// use host::{MissedTicks, Schedule};
/// use std::time::Duration;
///
/// // every 30 s, first run at start, on a fixed grid (no drift)
/// let rate = Schedule::every(Duration::from_secs(30));
/// // 10 s after each run ends, first run 5 s after start
/// let delay = Schedule::fixed_delay(Duration::from_secs(10)).initial_delay(Duration::from_secs(5));
/// // every 5 minutes, each run up to 20 s late at random, at most 60 s long, catching up on missed ticks
/// let spread = Schedule::every(Duration::from_secs(300))
///     .jitter(Duration::from_secs(20))
///     .timeout(Duration::from_secs(60))
///     .missed_ticks(MissedTicks::Burst);
/// # #[cfg(feature = "cron")]
/// // 02:30 every day, Berlin time
/// let nightly = Schedule::cron("30 2 * * *").tz("Europe/Berlin");
/// ```
///
/// Invalid values (a zero period, jitter not below the period or the shortest interval between two
/// cron runs, a bad cron expression or one that never fires, an unknown time zone) are reported by
/// [`Builder::build`](crate::Builder::build) as [`Error::InvalidSchedule`](crate::Error::InvalidSchedule)
/// naming the service; the attribute macros reject them at compile time. [`Schedule::validate`]
/// checks one eagerly.
#[derive(Clone)]
pub struct Schedule {
    pub(crate) trigger: Trigger,
    /// The options most schedules leave at their defaults, the missed-tick policy among them,
    /// boxed once one is set: every periodic service holds its schedule for its whole life. At 32
    /// bytes, a schedule and its service's next run (the status's box) fit glibc's 48-byte chunk.
    options: Option<Box<Options>>,
}

/// A schedule's less common options (see [`Schedule::opts`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    pub(crate) initial_delay: Duration,
    pub(crate) jitter: Duration,
    pub(crate) missed: MissedTicks,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_failures: Option<u32>,
    /// One run per tick across replicas (see `coordination`).
    pub(crate) singleton: Option<crate::coordination::Singleton>,
}

/// The defaults, for schedules that set none of the options.
static DEFAULT_OPTIONS: Options = Options {
    initial_delay: Duration::ZERO,
    jitter: Duration::ZERO,
    missed: MissedTicks::Skip,
    timeout: None,
    max_failures: None,
    singleton: None,
};

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.opts();
        f.debug_struct("Schedule")
            .field("trigger", &self.trigger)
            .field("initial_delay", &o.initial_delay)
            .field("jitter", &o.jitter)
            .field("missed", &o.missed)
            .field("timeout", &o.timeout)
            .field("max_failures", &o.max_failures)
            .field("singleton", &o.singleton)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Trigger {
    /// Fixed rate: one run per period on a grid anchored at the first run.
    Every(Duration),
    /// Fixed delay: a pause of this length after each run ends.
    FixedDelay(Duration),
    /// A cron expression in a time zone.
    #[cfg(feature = "cron")]
    Cron(Box<cron::CronSpec>),
}

/// What a fixed-rate or cron schedule does with ticks that fall due while the previous run is still
/// going (a run longer than the period) or while the process was stalled.
///
/// Timelines for `every = 10s` where the first run (`#`) takes 25 s and later runs take 1 s
/// (`|` marks the grid, one character per second):
///
/// ```text
///           0         10        20        30        40
/// grid      |         |         |         |         |
/// Skip      #########################     #         #        runs at 0, 30, 40 (10 and 20 dropped)
/// Burst     ###########################   #         #        runs at 0, 25 (due 10), 26 (due 20), 30, 40
/// Delay     ##########################         #         #   runs at 0, 25, 35, 45 (the grid moved)
/// ```
///
/// - [`Skip`](MissedTicks::Skip) (default): missed ticks are dropped; the next run is the next grid
///   point, so runs stay on the grid. A process that stalls while *waiting* runs once, late, then
///   returns to the grid.
/// - [`Burst`](MissedTicks::Burst): every missed tick runs, back to back, until caught up; no tick is
///   lost. Each run's [`Tick::lateness`] tells how late it is.
/// - [`Delay`](MissedTicks::Delay): the missed tick runs at once and the grid restarts from that
///   run: the rate becomes "period after the late run".
///
/// A fixed-delay schedule never misses a tick: it waits after each run by definition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTicks {
    /// Drop missed ticks and stay on the grid.
    #[default]
    Skip,
    /// Run every missed tick as soon as possible.
    Burst,
    /// Run the missed tick now and shift the grid.
    Delay,
}

/// Why a [`Schedule`] is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The period of `every` or `fixed_delay` is zero.
    #[error("the period must be greater than zero")]
    ZeroPeriod,
    /// A period or per-run timeout below 1 ms, the resolution of tokio's timer.
    #[error("`{what}` of {} is below 1 ms, the resolution of tokio's timer; use at least 1 ms", humantime::format_duration(*value))]
    BelowTimerResolution {
        /// Which setting: `every`, `fixed_delay` or `timeout`.
        what: &'static str,
        /// The value given.
        value: Duration,
    },
    /// Jitter must be smaller than the period, or runs could reorder or overlap the next tick.
    #[error("jitter ({}) must be smaller than the period ({})", humantime::format_duration(*jitter), humantime::format_duration(*period))]
    JitterTooLarge {
        /// The jitter bound.
        jitter: Duration,
        /// The period.
        period: Duration,
    },
    /// The cron expression does not parse.
    #[error("invalid cron expression `{expr}`: {reason}")]
    InvalidCron {
        /// The expression.
        expr: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The cron expression can never fire: no date matches its day, month and weekday
    /// fields together, like `0 0 30 2 *` (30 February).
    #[error(
        "the cron expression `{0}` never fires: no date matches its day-of-month, month and weekday fields \
         together (like day 30 in February, or day 31 in a 30-day month); fix the day or the month"
    )]
    CronNeverFires(String),
    /// Jitter must be smaller than the shortest interval between two runs of a cron expression
    /// or a delayed run would fall after the next one is due and that run would be lost.
    #[error(
        "jitter ({}) must be smaller than the shortest interval between two runs of the cron expression `{expr}` ({})",
        humantime::format_duration(*jitter),
        humantime::format_duration(*interval)
    )]
    JitterAboveCronInterval {
        /// The jitter bound.
        jitter: Duration,
        /// The shortest wall-clock interval between two consecutive runs.
        interval: Duration,
        /// The expression.
        expr: String,
    },
    /// The time zone is not in the IANA database.
    #[error("unknown time zone `{0}`; use an IANA name such as `Europe/Berlin` or `UTC`")]
    UnknownTimeZone(String),
    /// A time zone was given for a schedule that is not a cron schedule.
    #[error("a time zone only applies to cron schedules")]
    TimeZoneWithoutCron,
    /// `max_failures` is zero.
    #[error("max_failures must be at least 1")]
    ZeroMaxFailures,
    /// A singleton job on a schedule that singleton does not support.
    #[error("{0}")]
    Singleton(&'static str),
    /// A singleton job, and no coordination configured on the builder.
    #[error(
        "the job is a singleton (one run per tick across replicas), but no coordination is configured: add \
         `Host::builder().coordination(host::postgres::Postgres::new(url))` (cargo feature `postgres`), or remove \
         `singleton`"
    )]
    SingletonWithoutCoordination,
}

impl Schedule {
    fn with_trigger(trigger: Trigger) -> Self {
        Schedule { trigger, options: None }
    }

    /// The less common options (their defaults when none is set).
    pub(crate) fn opts(&self) -> &Options {
        self.options.as_deref().unwrap_or(&DEFAULT_OPTIONS)
    }

    /// The less common options, to set one.
    pub(crate) fn opts_mut(&mut self) -> &mut Options {
        self.options.get_or_insert_default()
    }

    /// Fixed rate: the first run at start (see [`initial_delay`](Self::initial_delay)), then one run
    /// every `period`, on a grid that does not drift however long the runs take.
    pub fn every(period: Duration) -> Self {
        Self::with_trigger(Trigger::Every(period))
    }

    /// Fixed delay: the first run at start, then a pause of `delay` after each run ends.
    pub fn fixed_delay(delay: Duration) -> Self {
        Self::with_trigger(Trigger::FixedDelay(delay))
    }

    /// A cron expression, 5 fields (`min hour day month weekday`) or 6 with seconds first, in UTC
    /// unless [`tz`](Self::tz) says otherwise. The syntax is [croner]'s: `*`, lists, ranges, steps,
    /// names (`MON`, `JAN`), `L`, `W` and `#`; a 7th (year) field is rejected. An expression that
    /// can never fire, or a [`jitter`](Self::jitter) not below the shortest interval between two
    /// runs, is an error at [`validate`](Self::validate) (see [`crate::cron`]).
    ///
    /// [croner]: https://docs.rs/croner
    #[cfg(feature = "cron")]
    pub fn cron(expr: &str) -> Self {
        Self::with_trigger(Trigger::Cron(Box::new(cron::CronSpec::new(expr))))
    }

    /// The IANA time zone a cron schedule is evaluated in (default `UTC`). See [`cron`](crate::cron) for
    /// what happens on daylight-saving changes.
    #[cfg(feature = "cron")]
    pub fn tz(mut self, zone: &str) -> Self {
        match &mut self.trigger {
            Trigger::Cron(spec) => spec.set_zone(zone),
            _ => self.trigger = Trigger::Cron(Box::new(cron::CronSpec::invalid(ScheduleError::TimeZoneWithoutCron))),
        }
        self
    }

    /// Delays the first run by `delay` (default: the first run is at start).
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        if !delay.is_zero() || self.options.is_some() {
            self.opts_mut().initial_delay = delay;
        }
        self
    }

    /// Delays each run by a random offset in `[0, bound)`, chosen per run and per service, so
    /// replicas of one app do not all fire at once. The grid itself does not move. The bound must
    /// be smaller than the period, or, for a cron schedule, than the shortest interval between
    /// two of its runs.
    pub fn jitter(mut self, bound: Duration) -> Self {
        if !bound.is_zero() || self.options.is_some() {
            self.opts_mut().jitter = bound;
        }
        self
    }

    /// What to do with ticks missed because a run overran or the process stalled (default
    /// [`MissedTicks::Skip`]).
    pub fn missed_ticks(mut self, policy: MissedTicks) -> Self {
        self.set_missed(policy);
        self
    }

    /// Sets the missed-tick policy (the default allocates nothing).
    pub(crate) fn set_missed(&mut self, policy: MissedTicks) {
        if policy != MissedTicks::Skip || self.options.is_some() {
            self.opts_mut().missed = policy;
        }
    }

    /// Limits each run: at `timeout` the run's token is cancelled and its future dropped, and the run
    /// counts as failed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts_mut().timeout = Some(timeout);
        self
    }

    /// After this many consecutive failed runs the service itself has failed, and its
    /// [`FailurePolicy`](crate::FailurePolicy) applies. Without it (the default) failed runs are
    /// logged and counted, and the schedule simply goes on.
    pub fn max_failures(mut self, n: u32) -> Self {
        self.opts_mut().max_failures = Some(n);
        self
    }

    /// Checks the schedule now instead of at [`Builder::build`](crate::Builder::build).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        crate::coordination::validate(self)?;
        let o = self.opts();
        if let Some(timeout) = o.timeout {
            check_resolution("timeout", timeout)?;
        }
        let period = match &self.trigger {
            Trigger::Every(p) => check_resolution("every", *p)?,
            Trigger::FixedDelay(p) => check_resolution("fixed_delay", *p)?,
            #[cfg(feature = "cron")]
            // The cron check takes the jitter (its shortest interval bounds it)
            Trigger::Cron(spec) => return spec.validate(o.jitter).and(self.check_max_failures()),
        };
        if !o.jitter.is_zero() && o.jitter >= period {
            return Err(ScheduleError::JitterTooLarge {
                jitter: o.jitter,
                period,
            });
        }
        self.check_max_failures()
    }

    fn check_max_failures(&self) -> Result<(), ScheduleError> {
        match self.opts().max_failures {
            Some(0) => Err(ScheduleError::ZeroMaxFailures),
            _ => Ok(()),
        }
    }
}

/// The schedule as an operator reads it (status endpoint, dashboard): `every 30s`,
/// `fixed delay 10s`, ``cron `0 30 2 * * *` (Europe/Berlin)``, followed by the initial delay,
/// jitter, timeout and missed-tick policy where they differ from the defaults.
///
/// ```
/// use host::Schedule;
/// use std::time::Duration;
///
/// let s = Schedule::every(Duration::from_secs(30)).jitter(Duration::from_secs(2));
/// assert_eq!(s.to_string(), "every 30s, jitter 2s");
/// ```
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = humantime::format_duration;
        match &self.trigger {
            Trigger::Every(p) => write!(f, "every {}", d(*p))?,
            Trigger::FixedDelay(p) => write!(f, "fixed delay {}", d(*p))?,
            #[cfg(feature = "cron")]
            Trigger::Cron(spec) => write!(f, "{spec}")?,
        }
        let o = self.opts();
        if !o.initial_delay.is_zero() {
            write!(f, ", initial delay {}", d(o.initial_delay))?;
        }
        if !o.jitter.is_zero() {
            write!(f, ", jitter {}", d(o.jitter))?;
        }
        if let Some(t) = o.timeout {
            write!(f, ", timeout {}", d(t))?;
        }
        match o.missed {
            MissedTicks::Skip => {}
            MissedTicks::Burst => f.write_str(", missed ticks: burst")?,
            MissedTicks::Delay => f.write_str(", missed ticks: delay")?,
        }
        if self.is_singleton() {
            write!(f, ", singleton")?;
        }
        Ok(())
    }
}

/// A zero period, or one below tokio's 1 ms resolution, is rejected with the macros' wording.
fn check_resolution(what: &'static str, value: Duration) -> Result<Duration, ScheduleError> {
    if value.is_zero() && what != "timeout" {
        return Err(ScheduleError::ZeroPeriod);
    }
    if value < Duration::from_millis(1) {
        return Err(ScheduleError::BelowTimerResolution { what, value });
    }
    Ok(value)
}

/// What one run of a periodic service is told about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    pub(crate) run: u64,
    pub(crate) scheduled: Instant,
    pub(crate) started: Instant,
    /// The claim of a singleton run (its fence and tick on the database clock).
    pub(crate) claim: Option<crate::coordination::Claimed>,
}

impl Tick {
    /// The run number, from 1; it keeps counting across restarts.
    pub fn run(&self) -> u64 {
        self.run
    }

    /// The instant this run was due (jitter included).
    pub fn scheduled(&self) -> Instant {
        self.scheduled
    }

    /// The instant this run actually started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The fencing number of a [singleton](Schedule::singleton) run: it increases with every claim
    /// of this job by any replica, so a write guarded by it (`… WHERE fence < $fence`) cannot be
    /// overwritten by a run that lost its lease. `None` for ordinary jobs.
    pub fn fence(&self) -> Option<u64> {
        self.claim.map(|c| c.fence)
    }

    /// The tick a [singleton](Schedule::singleton) run claimed: its scheduled time on the database
    /// clock, in milliseconds since the Unix epoch (`every`: a multiple of the period; `cron`: an
    /// occurrence), the same on every replica. `None` for ordinary jobs.
    pub fn slot(&self) -> Option<i64> {
        self.claim.map(|c| c.tick)
    }

    /// How late the run started: `started - scheduled`.
    pub fn lateness(&self) -> Duration {
        self.started.saturating_duration_since(self.scheduled)
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {} ({:?} late)", self.run, self.lateness())
    }
}
