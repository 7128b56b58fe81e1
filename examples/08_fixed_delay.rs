//! A fixed-delay schedule: the next run starts 3 s after the previous one *ends*, however long it
//! took, so runs never pile up. Compare `every` (fixed rate), which keeps a grid.
//!
//! `cargo run -p examples --example 08_fixed_delay`, then Ctrl+C.

use std::time::Duration;

use host::Tick;

#[host::periodic(fixed_delay = "3s")]
async fn poll_feed(tick: Tick) {
    // Each poll takes a varying time; the pause after it stays 3 s.
    let took = Duration::from_millis(500 * (tick.run() % 4));
    tokio::time::sleep(took).await;
    tracing::info!(run = tick.run(), took = ?took, "feed polled");
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    host::run().await
}
