//! Configuration without recompiling: schedules, switches and policies from a TOML file and
//! environment variables, over what the attributes say.
//!
//! The host reads `host.toml` (or the file `$HOST_CONFIG` names), then `HOST_<SERVICE>_<OPTION>`
//! variables; this example points it at `examples/19_configuration.toml`, which runs `report`
//! every 5 s instead of hourly and switches `cleanup` off. Try:
//!
//! ```text
//! cargo run -p examples --example 19_configuration
//! HOST_REPORT_EVERY=2s cargo run -p examples --example 19_configuration            # env over file
//! HOST_CLEANUP_ENABLED=true HOST_CLEANUP_CRON="*/3 * * * * *" cargo run -p examples --example 19_configuration
//! HOST_REPORT_EVERY=5M cargo run -p examples --example 19_configuration            # exit 2: did you mean "5m"?
//! ```
//!
//! Ctrl+C stops it. Your own settings can use the same duration grammar: `host::parse_duration`.

use std::process::ExitCode;

use host::{Context, Host, Tick};

#[host::periodic(every = "1h", name = "report")]
async fn report(tick: Tick) {
    tracing::info!(run = tick.run(), "report sent");
}

/// Switched off in the file: its constructor never runs.
#[host::periodic(every = "30s", name = "cleanup")]
async fn cleanup() {
    tracing::info!("cleanup ran");
}

#[host::hosted_service(name = "heartbeat")]
async fn heartbeat(ctx: Context) {
    ctx.cancelled().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A configuration error is exit code 2, before any service started.
            tracing::error!(%error, "host failed");
            error.exit_code()
        }
    }
}

async fn run() -> Result<(), host::Error> {
    let mut builder = Host::builder();
    if std::env::var_os(host::config::CONFIG_FILE_VAR).is_none() {
        builder = builder.config_file(concat!(env!("CARGO_MANIFEST_DIR"), "/19_configuration.toml"));
    }
    let host = builder.build()?;
    for service in host.services() {
        match service.schedule() {
            Some(schedule) => tracing::info!(service = service.name(), %schedule, "configured"),
            None => tracing::info!(service = service.name(), policy = ?service.failure_policy(), "configured"),
        }
    }
    host.run().await?;
    Ok(())
}
