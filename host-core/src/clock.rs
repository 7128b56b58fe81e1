//! Time in one place: saturating deadlines (no user duration can overflow an `Instant`), jitter,
//! exponential back-off, the mapping between the monotonic clock the timers use and wall-clock
//! time (cron, tests with a pinned wall clock), and the system time of an `Instant` (RFC 3339 in
//! `/status` and the run spans).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// About 30 years: what "never" means for a deadline. tokio's own `timeout` treats an overflowing
/// deadline the same way.
const FAR_FUTURE: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

/// An instant as the status snapshot stores it, in one atomic word: nanoseconds since the host's
/// epoch plus one, `0` for none; saturates after ~584 years of uptime. Made from an `Instant` by a
/// subtraction (~55 instructions), or from another stamp by integer addition: a fixed-rate
/// schedule's next run is the previous one plus the period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp(pub(crate) u64);

impl Stamp {
    pub(crate) const NONE: Stamp = Stamp(0);

    pub(crate) fn of(epoch: Instant, at: Option<Instant>) -> Stamp {
        match at {
            Some(at) => {
                // u64 arithmetic (not `as_nanos`' u128).
                let since = at.saturating_duration_since(epoch);
                Stamp(
                    since
                        .as_secs()
                        .saturating_mul(1_000_000_000)
                        .saturating_add(u64::from(since.subsec_nanos()))
                        .min(u64::MAX - 1)
                        + 1,
                )
            }
            None => Stamp::NONE,
        }
    }

    /// The stamp of `self + after`: what [`Stamp::of`] gives for that instant, when the instant
    /// was not clamped by [`deadline`].
    pub(crate) fn after(self, after: Duration) -> Stamp {
        if self == Stamp::NONE {
            return self;
        }
        let nanos = after
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(after.subsec_nanos()));
        Stamp(self.0.saturating_add(nanos))
    }

    /// The time from `earlier` to `self` (zero if `self` is not later).
    pub(crate) fn since(self, earlier: Stamp) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    pub(crate) fn instant(self, epoch: Instant) -> Option<Instant> {
        (self != Stamp::NONE).then(|| deadline(epoch, Duration::from_nanos(self.0 - 1)))
    }
}

/// `at + after`, or a deadline that never comes when that does not fit in an `Instant`.
pub(crate) fn deadline(at: Instant, after: Duration) -> Instant {
    at.checked_add(after)
        .or_else(|| at.checked_add(FAR_FUTURE))
        .unwrap_or(at)
}

/// A random delay in `[0, bound)`, from the thread's generator (a generator per service would
/// take room in every periodic task).
pub(crate) fn jitter(bound: Duration) -> Duration {
    if bound.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..nanos))
}

/// Exponential back-off: `initial × factorⁿ`, capped at `max`, saturating for any `n` and factor.
pub(crate) fn backoff(initial: Duration, factor: f64, n: u32, max: Duration) -> Duration {
    let exp = i32::try_from(n).unwrap_or(i32::MAX);
    let secs = initial.as_secs_f64() * factor.powi(exp);
    if secs >= max.as_secs_f64() {
        return max;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(max)
}

/// `part/whole` of a duration, exactly for every value (`Duration::MAX` included).
pub(crate) fn fraction(d: Duration, part: u32, whole: u32) -> Duration {
    let nanos = d.as_nanos() * u128::from(part) / u128::from(whole.max(1));
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // `nanos % 1e9` is below 1e9, so it fits in a u32.
    let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, sub)
}

/// A fixed wall-clock time for the host's epoch, set by tests; `None` reads the system clock.
pub(crate) type WallOrigin = Option<(WallTime, Instant)>;

/// The wall-clock type: jiff's timestamp with the `cron` feature.
#[cfg(feature = "cron")]
pub(crate) type WallTime = jiff::Timestamp;
/// Without the `cron` feature nothing needs a wall clock.
#[cfg(not(feature = "cron"))]
pub(crate) type WallTime = std::convert::Infallible;

/// Maps the monotonic clock the timers use to wall-clock time, anchored once when a service's
/// schedule starts (so a paused test clock and wall-clock jumps cannot make a cron job fire twice).
#[cfg(feature = "cron")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    wall0: jiff::Timestamp,
    inst0: Instant,
}

#[cfg(feature = "cron")]
impl WallClock {
    /// Anchors at `now`: the system clock, or the pinned origin of a test.
    pub(crate) fn anchor(now: Instant, origin: WallOrigin) -> Self {
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

    /// The wall-clock time of `at`.
    pub(crate) fn wall(&self, at: Instant) -> jiff::Timestamp {
        let since = jiff::SignedDuration::try_from(at.saturating_duration_since(self.inst0))
            .unwrap_or(jiff::SignedDuration::MAX);
        self.wall0.saturating_add(since).unwrap_or(jiff::Timestamp::MAX)
    }

    /// The instant of the wall-clock time `wall` (saturating).
    pub(crate) fn instant(&self, wall: jiff::Timestamp) -> Instant {
        let ahead = wall.duration_since(self.wall0);
        deadline(self.inst0, Duration::try_from(ahead).unwrap_or(Duration::ZERO))
    }
}

/// The last instant RFC 3339 (and `humantime`) can write: 9999-12-31T23:59:59Z.
const LAST: Duration = Duration::from_secs(253_402_300_799);

/// The wall-clock time of `at`: `now_wall - (now_instant - at)` (or `+` for a future instant).
///
/// The one place the two clocks meet. The result follows the system clock as it is *now*: if the
/// clock was stepped since `at`, the time shown moves with it (what an operator comparing with
/// other logs wants). Under tokio's paused test clock, `Instant::now()` is the paused clock and
/// the offsets stay exact. A host whose cron schedules run on a pinned wall clock (tests) still
/// reports system-clock times here.
pub(crate) fn system_time(at: Instant) -> SystemTime {
    convert(at, Instant::now(), SystemTime::now())
}

/// [`system_time`] with both clocks read by the caller; clamped to what RFC 3339 can write (a
/// system clock set before 1970, or a deadline centuries away, must not make formatting panic).
fn convert(at: Instant, now: Instant, wall: SystemTime) -> SystemTime {
    let converted = if at <= now {
        wall.checked_sub(now - at)
    } else {
        wall.checked_add(at - now)
    };
    converted.unwrap_or(wall).clamp(UNIX_EPOCH, UNIX_EPOCH + LAST)
}

/// Displays an [`Instant`] as an RFC 3339 UTC timestamp with milliseconds, computed only when
/// displayed (so a disabled tracing span costs nothing).
pub(crate) struct Rfc3339(pub(crate) Instant);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&humantime::format_rfc3339_millis(system_time(self.0)), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_saturate_instead_of_panicking() {
        let now = Instant::now();
        assert_eq!(deadline(now, Duration::from_secs(1)), now + Duration::from_secs(1));
        let never = deadline(now, Duration::MAX);
        assert!(never > now + Duration::from_secs(60 * 60 * 24 * 365));
    }

    #[test]
    fn fractions_are_exact_and_never_overflow() {
        assert_eq!(fraction(Duration::from_secs(4), 3, 4), Duration::from_secs(3));
        assert_eq!(
            fraction(Duration::from_millis(10), 1, 3),
            Duration::from_nanos(3_333_333)
        );
        assert!(fraction(Duration::MAX, 3, 4) < Duration::MAX);
    }

    #[test]
    fn jitter_stays_below_its_bound() {
        fastrand::seed(7);
        for _ in 0..1000 {
            assert!(jitter(Duration::from_millis(5)) < Duration::from_millis(5));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}

#[cfg(test)]
mod system_time_tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn past_and_future_instants_are_offset_from_the_wall_clock() {
        let now = Instant::now();
        let wall = at(1_800_000_000);
        assert_eq!(convert(now, now, wall), wall);
        assert_eq!(convert(now - Duration::from_secs(90), now, wall), at(1_799_999_910));
        assert_eq!(convert(now + Duration::from_secs(12), now, wall), at(1_800_000_012));
    }

    #[test]
    fn times_rfc3339_cannot_write_are_clamped_instead_of_panicking() {
        let now = Instant::now();
        // A system clock just after 1970 (a board without a real-time clock) and a run an hour ago.
        let early = convert(now - Duration::from_secs(3600), now, at(10));
        assert_eq!(early, UNIX_EPOCH);
        assert_eq!(
            humantime::format_rfc3339_millis(early).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        // A deadline beyond the year 9999.
        let late = convert(now + Duration::from_secs(400 * 365 * 86_400), now, at(253_000_000_000));
        assert_eq!(
            humantime::format_rfc3339_millis(late).to_string(),
            "9999-12-31T23:59:59.000Z"
        );
    }
}
