//! Supervision: a flaky service restarted with exponential back-off (0.5 s, 1 s, 2 s, 4 s) until
//! restarts come too fast (more than 4 in 30 s, as an Erlang/OTP supervisor counts them); then the
//! failure escalates to `stop-host`: the host stops gracefully and the process exits with code 1.
//!
//! `cargo run -p examples --example 11_restart_backoff` (ends by itself after ~8 s).

use std::process::ExitCode;

use host::Context;

#[host::hosted_service(on_failure = restart(initial = "500ms", factor = 2.0, max = "10s", max_restarts = 4, window = "30s"))]
async fn flaky(ctx: Context) -> anyhow::Result<()> {
    tracing::info!("connecting to the broker");
    tokio::select! {
        _ = ctx.cancelled() => Ok(()),
        _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => anyhow::bail!("broker refused the connection"),
    }
}

/// Keeps working while its neighbour flaps.
#[host::periodic(every = "1s")]
async fn steady() {
    tracing::info!("steady work");
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().init();
    match host::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "host failed");
            error.exit_code()
        }
    }
}
