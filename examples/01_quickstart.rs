//! The main example: three services that start, work, and stop on Ctrl+C.
//!
//! - `refresh_cache` runs every 5 s (the first run at start);
//! - `mailer` is a long-running body that works until it is cancelled;
//! - `Metrics` is a type with start and stop hooks.
//!
//! Run it with `cargo run -p examples --example 01_quickstart`, watch the lifecycle in the log,
//! and press Ctrl+C (or `kill -TERM <pid>`): every service stops gracefully and the process
//! exits with code 0. The README's quick start is this file.

use std::time::Duration;

use host::{BoxError, Context, HostedService, Tick};

/// Refreshes a cache every 5 seconds.
#[host::periodic(every = "5s")]
async fn refresh_cache(tick: Tick) -> anyhow::Result<()> {
    tracing::info!(run = tick.run(), "cache refreshed");
    Ok(())
}

/// Sends queued e-mail until the host shuts down.
#[host::hosted_service]
async fn mailer(ctx: Context) -> anyhow::Result<()> {
    let mut interval = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = ctx.cancelled() => break,
            _ = interval.tick() => tracing::info!("queue checked, nothing to send"),
        }
    }
    tracing::info!("mail queue drained");
    Ok(())
}

/// Publishes metrics; connects at start and flushes at stop.
#[host::hosted_service]
#[derive(Default)]
struct Metrics;

impl HostedService for Metrics {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!("metrics exporter connected");
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!("metrics flushed");
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    host::run().await
}
