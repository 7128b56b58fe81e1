//! Cron schedules in IANA time zones, daylight-saving correct: each local time the expression
//! names fires exactly once (see the `host::cron` docs).
//!
//! The expressions and zones are checked at compile time. Six fields put seconds first, so
//! `*/5 * * * * *` runs every 5 seconds and is watchable:
//! `cargo run -p examples --example 09_cron`, then Ctrl+C.

use host::{Schedule, Tick};

/// Every 5 seconds (seconds field first).
#[host::periodic(cron = "*/5 * * * * *")]
async fn heartbeat(tick: Tick) {
    tracing::info!(run = tick.run(), "heartbeat");
}

/// 02:30 every night, Berlin time: on the spring-forward night it runs at 03:00 CEST, on the
/// fall-back night once.
#[host::periodic(cron = "30 2 * * *", tz = "Europe/Berlin")]
async fn nightly_cleanup() {
    tracing::info!("nightly clean-up");
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    let next = Schedule::cron("30 2 * * *")
        .tz("Europe/Berlin")
        .upcoming(host::jiff::Timestamp::now(), 3);
    for at in next.into_iter().flatten() {
        tracing::info!(%at, "nightly_cleanup will run");
    }
    host::run().await
}
