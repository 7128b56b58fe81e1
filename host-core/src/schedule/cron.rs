//! Cron schedules in IANA time zones (feature `cron`, on by default).
//!
//! Expressions are parsed by [croner] (5 fields, or 6 with seconds first; a 7th, year, field is
//! rejected; `*`, lists, ranges, steps, `MON`/`JAN` names, `L`, `W`, `#` and `@daily`-style
//! nicknames) and checked by `host-cron`, the same checks the macros apply at compile time: an
//! expression that can never fire (`0 0 30 2 *`) is an error, and so is a jitter that is not below
//! the shortest interval between two runs;
//! time zones and calendar arithmetic come from [jiff] with the IANA database bundled, so a zone
//! resolves the same at compile time (the macros validate it) and on a server without `tzdata`.
//!
//! # Daylight-saving time
//!
//! Each local time that the expression names fires **exactly once**:
//!
//! - **Spring forward** (a local hour does not exist): a fixed-time job whose time falls in the gap
//!   runs at the first real instant after the gap. `30 2 * * *` in `Europe/Berlin` on 2026-03-29
//!   (02:00 → 03:00) runs at 03:00 CEST; the next day at 02:30 again.
//! - **Fall back** (a local hour happens twice): a fixed-time job runs once, in the first of the
//!   two occurrences. `30 1 * * *` in `America/New_York` on 2026-11-01 (02:00 EDT → 01:00 EST) runs
//!   at 01:30 EDT and not again at 01:30 EST.
//! - Interval jobs (`*/15 * * * *`, `0 * * * *`) follow real elapsed time: they fire in both passes
//!   of a repeated hour, and not in a skipped one.
//!
//! The host maps a cron time to its monotonic clock when it computes each run, anchored to the
//! wall clock when the service starts.
//!
//! [croner]: https://docs.rs/croner
//! [jiff]: https://docs.rs/jiff

use std::time::Duration;

use croner::Cron;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::schedule::ScheduleError;

/// A parsed cron expression and its zone; parse errors are kept and reported at build time.
#[derive(Clone, Debug)]
pub(crate) struct CronSpec {
    parsed: Result<(Cron, TimeZone), ScheduleError>,
    /// The expression as written, for errors.
    expr: String,
    /// The shortest wall-clock interval between two runs (zero when the expression is invalid).
    shortest: Duration,
}

impl CronSpec {
    pub(crate) fn new(expr: &str) -> Self {
        match parse(expr) {
            Ok(checked) => CronSpec {
                parsed: Ok((checked.cron, TimeZone::UTC)),
                expr: expr.to_owned(),
                shortest: checked.shortest_interval,
            },
            Err(error) => CronSpec::invalid(error),
        }
    }

    pub(crate) fn invalid(error: ScheduleError) -> Self {
        CronSpec {
            parsed: Err(error),
            expr: String::new(),
            shortest: Duration::ZERO,
        }
    }

    pub(crate) fn set_zone(&mut self, zone: &str) {
        if let Ok((_, tz)) = &mut self.parsed {
            match TimeZone::get(zone) {
                Ok(z) => *tz = z,
                Err(_) => self.parsed = Err(ScheduleError::UnknownTimeZone(zone.to_owned())),
            }
        }
    }

    /// The zone's IANA name (a configured `cron` keeps the attribute's `tz`).
    pub(crate) fn zone(&self) -> Option<&str> {
        self.parsed.as_ref().ok().and_then(|(_, tz)| tz.iana_name())
    }

    /// The expression is valid, and `jitter` is below the shortest interval between two runs
    /// (wall-clock time: see `host_cron` for how it is computed).
    pub(crate) fn validate(&self, jitter: Duration) -> Result<(), ScheduleError> {
        self.parsed.as_ref().map_err(Clone::clone)?;
        if !jitter.is_zero() && jitter >= self.shortest {
            return Err(ScheduleError::JitterAboveCronInterval {
                jitter,
                interval: self.shortest,
                expr: self.expr.clone(),
            });
        }
        Ok(())
    }

    /// The last occurrence at or before `at` (singleton jobs: the tick due at `at`).
    pub(crate) fn at_or_before(&self, at: Timestamp) -> Option<Zoned> {
        let (cron, tz) = self.parsed.as_ref().ok()?;
        cron.find_previous_occurrence(&at.to_zoned(tz.clone()), true).ok()
    }

    /// The first occurrence strictly after `after`, or `None` when there is none (or it is past
    /// the year 9999).
    pub(crate) fn next_after(&self, after: Timestamp) -> Option<Zoned> {
        let (cron, tz) = self.parsed.as_ref().ok()?;
        cron.find_next_occurrence(&after.to_zoned(tz.clone()), false).ok()
    }
}

/// ``cron `0 30 2 * * *` (Europe/Berlin)``, for [`Schedule`](crate::Schedule)'s `Display`.
impl std::fmt::Display for CronSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.parsed {
            Ok((cron, tz)) => write!(f, "cron `{}` ({})", cron.as_str(), tz.iana_name().unwrap_or("UTC")),
            Err(error) => write!(f, "invalid cron schedule: {error}"),
        }
    }
}

fn parse(expr: &str) -> Result<host_cron::Checked, ScheduleError> {
    host_cron::check(expr).map_err(|e| match e {
        host_cron::CronError::NeverFires => ScheduleError::CronNeverFires(expr.to_owned()),
        e => ScheduleError::InvalidCron {
            expr: expr.to_owned(),
            reason: e.to_string(),
        },
    })
}

impl crate::schedule::Schedule {
    /// The next `count` run times of a cron schedule strictly after `after`, in its time zone.
    ///
    /// ```
    /// let s = host::Schedule::cron("30 2 * * *").tz("Europe/Berlin");
    /// let after: host::jiff::Timestamp = "2026-03-28T12:00:00Z".parse().unwrap();
    /// let runs: Vec<String> = s.upcoming(after, 2).unwrap().iter().map(|z| z.to_string()).collect();
    /// // 2026-03-29 has no 02:30 in Berlin: that run is at 03:00 CEST.
    /// assert_eq!(runs, [
    ///     "2026-03-29T03:00:00+02:00[Europe/Berlin]",
    ///     "2026-03-30T02:30:00+02:00[Europe/Berlin]",
    /// ]);
    /// ```
    pub fn upcoming(&self, after: Timestamp, count: usize) -> Result<Vec<Zoned>, ScheduleError> {
        let crate::schedule::Trigger::Cron(spec) = &self.trigger else {
            return Ok(Vec::new());
        };
        spec.validate(Duration::ZERO)?;
        let mut out = Vec::with_capacity(count);
        let mut at = after;
        while out.len() < count {
            let Some(next) = spec.next_after(at) else { break };
            at = next.timestamp();
            out.push(next);
        }
        Ok(out)
    }
}
