//! Periodic services built at run time: schedules read from configuration (here a string), and
//! thousands of jobs, registered through the builder with the same semantics as `#[periodic]`.
//!
//! `cargo run -p examples --example 10_programmatic`, then Ctrl+C. Set `JOBS` for more jobs:
//! `JOBS=100000 cargo run --release -p examples --example 10_programmatic`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use host::{Context, Host, Schedule, Service, Tick};

/// What a configuration file might hold: `name period`.
const CONFIG: &str = "
    rotate-logs   10s
    compact-db    15s
    warm-cache    5s
";

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();

    let configured = CONFIG.lines().filter_map(|line| {
        let (name, period) = line.trim().split_once(char::is_whitespace)?;
        let period = humantime::parse_duration(period.trim()).ok()?;
        let job = move |ctx: Context, tick: Tick| async move {
            tracing::info!(job = ctx.name(), run = tick.run(), "configured job ran");
        };
        Some(Service::periodic(name.to_owned(), Schedule::every(period), job))
    });

    let jobs: usize = std::env::var("JOBS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000);
    let ticks = Arc::new(AtomicU64::new(0));
    let many = (0..jobs).map(|i| {
        let ticks = ticks.clone();
        let job = move |_: Context, _: Tick| {
            ticks.fetch_add(1, Ordering::Relaxed);
            async {}
        };
        Service::periodic(format!("job-{i}"), Schedule::every(Duration::from_secs(1)), job)
    });

    let host = Host::builder().services(configured).services(many).build()?;
    let handle = host.handle();
    let counter = ticks.clone();
    tokio::spawn(async move {
        handle.wait_for(host::Phase::Started).await;
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            tracing::info!(ticks = counter.load(Ordering::Relaxed), "ticks so far");
        }
    });
    let report = host.run().await?;
    tracing::info!(
        services = report.services.len(),
        ticks = ticks.load(Ordering::Relaxed),
        "done"
    );
    Ok(())
}
