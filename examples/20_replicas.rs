//! Several replicas, one run per tick: `invoice_run` is a singleton job, so each of
//! its ticks runs on one replica only, whichever claims it first in PostgreSQL; `refresh_cache`
//! is an ordinary job and runs on every replica. Kill any replica (even with `kill -9`) and start it
//! again: the invoice runs go on, each tick once. See "Running several replicas" in the README.
//!
//! Needs a PostgreSQL database (`DATABASE_URL`). Three replicas against a throwaway server:
//!
//! ```sh
//! cargo build -p examples --example 20_replicas
//! .ci/with-postgres bash -c 'export DATABASE_URL=$HOST_TEST_DATABASE_URL
//!   for r in r1 r2 r3; do REPLICA=$r target/debug/examples/20_replicas & done; wait'
//! ```
//!
//! or, against your own database, in three terminals:
//! `DATABASE_URL=postgresql://user@localhost/app REPLICA=r1 cargo run -p examples --example 20_replicas`
//! (then `r2`, `r3`). Ctrl+C stops a replica gracefully.

use std::process::ExitCode;
use std::time::Duration;

use host::postgres::Postgres;
use host::{Context, Host, Tick};

/// Bills customers: once per tick across all replicas. A tick missed while every replica was down
/// runs once when the first comes back.
#[host::periodic(every = "5s", singleton, catch_up = "once", lease = "15s")]
async fn invoice_run(ctx: Context, tick: Tick) -> anyhow::Result<()> {
    // The fence grows with every claim: store it with your writes (`… WHERE fence < $1`) so that a
    // run that lost its lease can never overwrite a newer run's work.
    let fence = tick.fence().unwrap_or_default();
    tracing::info!(
        scheduled_ms = tick.slot(),
        fence,
        "billing customers, on this replica only"
    );
    tokio::select! {
        // Shutdown, or the lease was lost (another replica took the job over): stop now.
        _ = ctx.cancelled() => tracing::warn!(fence, "invoice run cancelled"),
        _ = tokio::time::sleep(Duration::from_secs(2)) => tracing::info!(fence, "invoices sent"),
    }
    Ok(())
}

/// A local cache: every replica refreshes its own.
#[host::periodic(every = "5s")]
async fn refresh_cache() {
    tracing::info!("local cache refreshed (on every replica)");
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("set DATABASE_URL to a PostgreSQL database, e.g. postgresql://user@localhost/app");
        return ExitCode::from(2);
    };
    let replica = std::env::var("REPLICA").unwrap_or_else(|_| format!("pid {}", std::process::id()));
    let host = Host::builder().coordination(Postgres::new(url).holder(replica)).build();
    match async { host?.run().await }.await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "host failed");
            error.exit_code()
        }
    }
}
