//! One replica of a host with a singleton job, for the real-process replica tests
//! (`tests/replicas.rs`, `tests/replicas_db_restart.rs`): several of these run against one
//! PostgreSQL and each tick of the job must run on one of them only.
//!
//! - `HOST_TEST_DATABASE_URL`: the database; `REPLICA_SCHEMA`: the schema of the coordination
//!   table (one per test); `REPLICA_NAME`: the holder name.
//! - `REPLICA_EVERY` (default 1s), `REPLICA_CRON` (instead of `every`), `REPLICA_RUN` (how long each run lasts, default 200ms),
//!   `REPLICA_LEASE` (default 3s), `REPLICA_CATCH_UP=once`.
//! - `REPLICA_SKEW_MS`: offsets this replica's wall clock (the host's injectable wall clock) by
//!   that many milliseconds, e.g. `5000`.
//! - `REPLICA_RUNS_FILE`: every run appends `start <tick> <fence> <replica> <pid> <unix_ms>` when it
//!   starts and `end <tick> <fence> <replica>` when it ends (`tick`: the tick number, the scheduled
//!   time over the period) (small `O_APPEND` writes: atomic).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use host::{CatchUp, Context, Host, Schedule, Service, Tick};

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn env_duration(key: &str, default: &str) -> Duration {
    let text = env(key).unwrap_or_else(|| default.to_owned());
    humantime::parse_duration(&text).unwrap_or_else(|e| panic!("{key}={text}: {e}"))
}

fn append(path: &str, line: &str) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    file.write_all(format!("{line}\n").as_bytes())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(false)
        .init();
    let url = env("HOST_TEST_DATABASE_URL").expect("HOST_TEST_DATABASE_URL");
    let schema = env("REPLICA_SCHEMA").unwrap_or_else(|| "host".to_owned());
    let name = env("REPLICA_NAME").unwrap_or_else(|| format!("pid-{}", std::process::id()));
    let runs_file = env("REPLICA_RUNS_FILE").expect("REPLICA_RUNS_FILE");
    let run_for = env_duration("REPLICA_RUN", "200ms");
    let every = env_duration("REPLICA_EVERY", "1s");
    let every_ms = i64::try_from(every.as_millis()).expect("period");
    // `REPLICA_CRON` (6 fields, seconds first) replaces `every`; `REPLICA_EVERY` then only says how
    // far apart its ticks are, to number them.
    let base = match env("REPLICA_CRON") {
        Some(expr) => Schedule::cron(&expr),
        None => Schedule::every(every),
    };
    let mut schedule = base.singleton().lease(env_duration("REPLICA_LEASE", "3s"));
    if env("REPLICA_CATCH_UP").as_deref() == Some("once") {
        schedule = schedule.catch_up(CatchUp::Once);
    }
    let replica = name.clone();
    let job = move |ctx: Context, tick: Tick| {
        let (replica, runs_file) = (replica.clone(), runs_file.clone());
        async move {
            // The tick number: its scheduled time (ms on the database clock) over the period.
            let slot = tick.slot().map_or(-1, |ms| ms / every_ms);
            let fence = tick.fence().unwrap_or(0);
            let pid = std::process::id();
            append(
                &runs_file,
                &format!("start {slot} {fence} {replica} {pid} {}", unix_ms()),
            );
            tokio::select! {
                _ = ctx.cancelled() => tracing::warn!(slot, "run cancelled"),
                _ = tokio::time::sleep(run_for) => {}
            }
            append(&runs_file, &format!("end {slot} {fence} {replica}"));
        }
    };
    let mut builder = Host::builder()
        .discover(false)
        .coordination(host::postgres::Postgres::new(url).schema(schema).holder(name))
        .shutdown_timeout(Duration::from_secs(5))
        .service(Service::periodic("billing", schedule, job));
    // The injectable wall clock: this replica believes it is `REPLICA_SKEW_MS` later than it is.
    if let Some(skew) = env("REPLICA_SKEW_MS") {
        let ms: i64 = skew.parse().expect("REPLICA_SKEW_MS: milliseconds");
        let wall = host::jiff::Timestamp::now()
            .checked_add(host::jiff::SignedDuration::from_millis(ms))
            .expect("skewed wall clock");
        tracing::info!(skew_ms = ms, %wall, "wall clock skewed");
        builder = builder.wall_clock_origin(wall);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(async move { builder.build()?.run().await });
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "host failed");
            error.exit_code()
        }
    }
}
