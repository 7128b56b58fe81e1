//! Cancellation: every service gets a token (a child of the host's) through its `Context`.
//!
//! The seed registers a callback on the token; in Rust the body awaits `ctx.cancelled()` next to
//! its work, and hands child tokens to the tasks it spawns so they stop with it.
//!
//! `cargo run -p examples --example 03_cancellation`, then Ctrl+C.

use std::time::Duration;

use host::Context;

#[host::hosted_service]
async fn queue_consumer(ctx: Context) -> anyhow::Result<()> {
    // A helper task that stops when this service is cancelled.
    let child = ctx.token().child_token();
    let helper = tokio::spawn(async move {
        child.cancelled().await;
        tracing::info!("helper: cancellation requested, releasing the connection");
    });

    let mut processed = 0u64;
    loop {
        tokio::select! {
            _ = ctx.cancelled() => {
                tracing::info!(processed, "Cancellation requested.");
                break;
            }
            _ = tokio::time::sleep(Duration::from_millis(700)) => {
                processed += 1;
                tracing::info!(processed, "message processed");
            }
        }
    }
    helper.await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    host::run().await
}
