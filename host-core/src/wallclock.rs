//! Wall-clock times for what the runtime measures with tokio's monotonic [`Instant`]s: the status
//! endpoint's RFC 3339 timestamps and the per-run tracing span.

use std::fmt;
use std::time::SystemTime;

use tokio::time::Instant;

/// The wall-clock time of `at`: `now_wall - (now_instant - at)` (or `+` for a future instant).
///
/// The one place the two clocks meet. The result follows the system clock as it is *now*: if the
/// clock was stepped since `at`, the time shown moves with it (what an operator comparing with
/// other logs wants). Under tokio's paused test clock, `Instant::now()` is the paused clock and
/// the offsets stay exact.
pub(crate) fn system_time(at: Instant) -> SystemTime {
    let (now, wall) = (Instant::now(), SystemTime::now());
    let converted = if at <= now {
        wall.checked_sub(now - at)
    } else {
        wall.checked_add(at - now)
    };
    converted.unwrap_or(wall)
}

/// Displays an [`Instant`] as an RFC 3339 UTC timestamp with milliseconds, computed only when
/// displayed (so a disabled tracing span costs nothing).
pub(crate) struct Rfc3339(pub(crate) Instant);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&humantime::format_rfc3339_millis(system_time(self.0)), f)
    }
}
