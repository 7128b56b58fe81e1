//! Wall-clock times for what the runtime measures with tokio's monotonic [`Instant`]s: the status
//! endpoint's RFC 3339 timestamps and the per-run tracing span.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

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
