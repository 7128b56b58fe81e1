//! Graceful shutdown: on Ctrl+C/SIGTERM every token is cancelled; a service finishes its in-flight
//! work (here 2 s), its stop hook runs, and the host returns a report. The whole shutdown is
//! bounded by the timeout (10 s here, 30 s by default): a service that ignored its token would be
//! aborted and named.
//!
//! `cargo run -p examples --example 06_graceful_shutdown`, then Ctrl+C. A second Ctrl+C during
//! the shutdown exits at once (code 130).

use std::time::Duration;

use host::{BoxError, Context, HostedService};

#[host::hosted_service]
#[derive(Default)]
struct ReportWriter {
    written: u64,
}

impl HostedService for ReportWriter {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        loop {
            tokio::select! {
                _ = ctx.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(1)) => self.written += 1,
            }
        }
        tracing::info!("finishing the report in progress");
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!(written = self.written, "Service is stopping.");
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    let report = host::Host::builder()
        .shutdown_timeout(Duration::from_secs(10))
        .build()?
        .run()
        .await?;
    tracing::info!(shutdown = ?report.shutdown, reason = %report.reason, "clean shutdown");
    Ok(())
}
