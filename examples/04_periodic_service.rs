//! The seed's `MyPeriodicService`: a task every 30 seconds, the first run at start.
//!
//! `#[host::periodic(every = "30s")]` replaces the `Timer` and both hooks: runs are on a fixed grid
//! (no drift), never overlap, and stop at shutdown. Each run gets its `Tick`: run number,
//! scheduled instant and lateness.
//!
//! `cargo run -p examples --example 04_periodic_service`: the first run is immediate, the next
//! ones every 30 s; Ctrl+C stops it.

use host::Tick;

#[host::periodic(every = "30s", name = "my-periodic-service")]
async fn execute_task(tick: Tick) {
    tracing::info!(run = tick.run(), late = ?tick.lateness(), "Executing periodic task.");
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    host::run().await
}
