//! The host's lifetime (.NET's `IHostApplicationLifetime`): await `Starting`, `Started`,
//! `Stopping` and `Stopped` from any task through a `HostHandle`, and stop the host from code.
//!
//! `cargo run -p examples --example 12_lifecycle_events` (stops itself after 3 s).

use std::time::Duration;

use host::{Host, Phase};

#[host::hosted_service]
async fn worker(ctx: host::Context) {
    ctx.cancelled().await;
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    let host = Host::builder().build()?;
    let handle = host.handle();

    for phase in [Phase::Starting, Phase::Started, Phase::Stopping, Phase::Stopped] {
        let handle = handle.clone();
        tokio::spawn(async move {
            handle.wait_for(phase).await;
            tracing::info!(?phase, "lifecycle event");
        });
    }
    // Any code holding the handle can request a stop, e.g. an admin endpoint.
    let stopper = handle.clone();
    tokio::spawn(async move {
        stopper.wait_for(Phase::Started).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        tracing::info!("requesting stop");
        stopper.stop();
    });

    host.run().await?;
    tokio::task::yield_now().await; // let the `Stopped` listener log
    Ok(())
}
