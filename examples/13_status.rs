//! The status snapshot: every service's state, counters, last error and next run, read without
//! slowing the services (atomics, no lock on their path).
//!
//! `cargo run -p examples --example 13_status`, then Ctrl+C.

use std::time::Duration;

use host::{Host, Phase, Tick};

#[host::periodic(every = "2s")]
async fn sometimes_fails(tick: Tick) -> anyhow::Result<()> {
    anyhow::ensure!(
        !tick.run().is_multiple_of(3),
        "every third run fails (run {})",
        tick.run()
    );
    Ok(())
}

#[host::hosted_service]
async fn listener(ctx: host::Context) {
    ctx.cancelled().await;
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    let host = Host::builder().build()?;
    let handle = host.handle();
    tokio::spawn(async move {
        handle.wait_for(Phase::Started).await;
        let mut every = tokio::time::interval(Duration::from_secs(3));
        loop {
            every.tick().await;
            for s in handle.status() {
                let next = s
                    .next_run
                    .map(|at| at.saturating_duration_since(tokio::time::Instant::now()));
                println!(
                    "{:<28} {:?}/{:?} runs={} failures={} restarts={} next_in={:?} last_error={:?}",
                    s.name, s.kind, s.state, s.runs, s.failures, s.restarts, next, s.last_error
                );
            }
        }
    });
    host.run().await?;
    Ok(())
}
