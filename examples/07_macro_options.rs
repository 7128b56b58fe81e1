//! The attribute options: `name`, `order`, `on_failure` (with restart back-off), and the periodic
//! options `initial_delay`, `jitter`, `missed_ticks`, `timeout` and `max_failures`; parameters
//! `&Context` and `Tick`; a type built with `new = …`; a job registered switched off (`enabled =
//! false`: `HOST_REINDEX_ENABLED=true` switches it on, see `19_configuration`).
//!
//! `cargo run -p examples --example 07_macro_options`, then Ctrl+C.

use std::time::Duration;

use host::{BoxError, Context, HostedService, Tick};

/// Starts first (`order = -10`) and stops last.
#[host::hosted_service(name = "database", order = -10)]
async fn database(ctx: &Context) {
    tracing::info!("pool open");
    ctx.cancelled().await;
    tracing::info!("pool closed");
}

/// Fails now and then; restarted with back-off, at most 5 restarts a minute.
#[host::hosted_service(on_failure = restart(initial = "500ms", max = "5s", max_restarts = 5, window = "1m"))]
async fn flaky_consumer(ctx: Context) -> anyhow::Result<()> {
    tokio::select! {
        _ = ctx.cancelled() => Ok(()),
        _ = tokio::time::sleep(Duration::from_secs(3)) => anyhow::bail!("broker connection reset"),
    }
}

/// Every 10 s after a 2 s delay, up to 1 s late at random; each run may take at most 5 s; three
/// failed runs in a row fail the service, which is then ignored (the host goes on).
#[host::periodic(
    every = "10s",
    initial_delay = "2s",
    jitter = "1s",
    missed_ticks = "burst",
    timeout = "5s",
    max_failures = 3,
    on_failure = "ignore"
)]
async fn sync_inventory(ctx: &Context, tick: Tick) -> Result<(), std::io::Error> {
    tracing::info!(service = ctx.name(), run = tick.run(), late = ?tick.lateness(), "inventory synced");
    Ok(())
}

/// A type built by its own constructor.
#[host::hosted_service(new = Greeter::with_greeting)]
struct Greeter {
    greeting: &'static str,
}

impl Greeter {
    fn with_greeting() -> Self {
        Greeter { greeting: "hello" }
    }
}

impl HostedService for Greeter {
    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        tracing::info!(name = ctx.name(), "{}", self.greeting);
        Ok(())
    }
}

/// Registered switched off: never constructed nor run unless configuration switches it on.
#[host::periodic(every = "10s", name = "reindex", enabled = false)]
async fn reindex() {
    tracing::info!("reindexed");
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    host::run().await
}
