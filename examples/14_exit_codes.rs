//! Exit codes, one scenario per `HOST_DEMO` value (the real-process tests run this binary):
//!
//! | `HOST_DEMO` | what happens | exit code |
//! |---|---|---|
//! | unset | runs until SIGINT/SIGTERM, stops cleanly | 0 |
//! | `fail` | a service fails after 300 ms under `stop-host` | 1 |
//! | `stuck` | a service ignores cancellation; shutdown times out | 3 |
//!
//! `HOST_SHUTDOWN_TIMEOUT` sets the shutdown timeout (default `30s`). A second signal during the
//! shutdown exits at once with 130.
//!
//! `HOST_DEMO=fail cargo run -p examples --example 14_exit_codes; echo $?`

use std::process::ExitCode;
use std::time::Duration;

use host::{Context, Host, Service};

#[host::periodic(every = "1s")]
async fn heartbeat() {
    tracing::info!("heartbeat");
}

async fn failing(ctx: Context) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    anyhow::bail!("lost the connection to {}", ctx.name())
}

async fn stuck(_ctx: Context) {
    // Ignores its token: only the shutdown timeout ends it.
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A hosted service made from an async function, by hand.
struct FromFn<F>(F);

impl<F, Fut, R> host::HostedService for FromFn<F>
where
    F: FnMut(Context) -> Fut + Send + 'static,
    Fut: Future<Output = R> + Send,
    R: host::IntoResult,
{
    async fn run(&mut self, ctx: &Context) -> Result<(), host::BoxError> {
        (self.0)(ctx.clone()).await.into_result()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().init();
    let timeout = std::env::var("HOST_SHUTDOWN_TIMEOUT")
        .ok()
        .and_then(|t| humantime::parse_duration(&t).ok())
        .unwrap_or(host::DEFAULT_SHUTDOWN_TIMEOUT);
    let mut builder = Host::builder().shutdown_timeout(timeout);
    match std::env::var("HOST_DEMO").as_deref() {
        Ok("fail") => builder = builder.service(Service::hosted("ingest", FromFn(failing))),
        Ok("stuck") => builder = builder.service(Service::hosted("stubborn", FromFn(stuck))),
        _ => {}
    }
    let result = match builder.build() {
        Ok(host) => host.run().await.map(drop),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "host failed");
            error.exit_code()
        }
    }
}
