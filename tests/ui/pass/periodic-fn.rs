//! `#[periodic]` on `async fn`s: every schedule, every option, every parameter and return type.
#![deny(warnings)]

use host::{Context, Tick};

#[host::periodic(every = "30s")]
async fn plain() {}

#[host::periodic(every = "250ms")]
async fn with_tick(tick: Tick) {
    let _ = tick.run();
}

#[host::periodic(
    every = "1m 30s",
    initial_delay = "5s",
    jitter = "2s",
    missed_ticks = "burst",
    timeout = "20s"
)]
async fn all_rate_options(ctx: &Context, tick: Tick) -> anyhow::Result<()> {
    let _ = (ctx.name(), tick.lateness());
    Ok(())
}

#[host::periodic(every = "1h", missed_ticks = "skip", max_failures = 3, on_failure = "ignore")]
async fn skip(_: Context) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(())
}

#[host::periodic(every = "2d", missed_ticks = "delay", name = "delay", order = 7)]
async fn delay(tick: Tick, ctx: Context, again: &Context) {
    let _ = (tick, ctx, again);
}

#[host::periodic(fixed_delay = "10s", initial_delay = "1s", jitter = "1s", timeout = "1m")]
async fn fixed_delay() -> std::io::Result<()> {
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("upstream unavailable")]
struct Upstream;

#[host::periodic(cron = "0 */5 * * * *")]
async fn six_fields() -> Result<(), Upstream> {
    Ok(())
}

#[host::periodic(
    cron = "30 2 * * *",
    tz = "Europe/Berlin",
    jitter = "1m",
    missed_ticks = "burst",
    on_failure = restart(initial = "500ms", max = "10s"),
)]
async fn nightly(tick: Tick) {
    let _ = tick;
}

#[host::periodic(
    cron = "@daily",
    tz = "UTC",
    initial_delay = "1s",
    timeout = "365d",
    max_failures = 1
)]
async fn daily() {}

/// Issue 10: what the new checks must still accept: spelt-out units, 29 February (leap years),
/// weekday ranges, `L`, and a jitter just below the shortest interval between two cron runs
/// (`*/10` seconds: 10 s).
#[host::periodic(every = "5min", initial_delay = "1 hour")]
async fn spelt_out_units() {}

#[host::periodic(cron = "0 0 29 2 *")]
async fn leap_day() {}

#[host::periodic(cron = "0 9 * * mon-fri", jitter = "23h")]
async fn weekdays() {}

#[host::periodic(cron = "0 0 L * *")]
async fn month_end() {}

#[host::periodic(cron = "*/10 * * * * *", jitter = "9s")]
async fn jitter_below_the_cron_interval() {}

fn main() {
    let _ = plain();
}
