//! A web app and background services in one process: an axum server is itself a hosted service
//! that shuts down gracefully on its token, with the host's endpoints (`/health/live`,
//! `/health/ready`, `/status` and the dashboard at `/`) merged into the app's router.
//!
//! `cargo run -p examples --example 16_web_app`, then open <http://127.0.0.1:3000/> (`PORT=8080`
//! to change the port, `PORT=0` for any free one: the log says which; `DRAIN=5s` keeps the server
//! answering for 5 s after shutdown began). Ctrl+C or SIGTERM stops everything and exits 0. `flaky-import` fails on every run, so the dashboard shows it degraded.

use std::time::Duration;

use axum::{Router, routing::get};
use host::{Context, Tick};

/// The web server: starts first (so probes see "starting"), stops last (so it answers `503` on
/// `/health/ready` while the other services drain).
#[host::hosted_service(name = "web", order = -10)]
async fn web(ctx: Context) -> anyhow::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse()?,
        Err(_) => 3000,
    };
    let app: Router = Router::new()
        .route("/hello", get(|| async { "hello from the web app\n" }))
        .merge(host::http::router(ctx.host().clone()));
    // Behind a load balancer that probes `/health/ready`, keep serving for a while after shutdown
    // began (`DRAIN=5s`): readiness answers 503 at once, and the balancer stops sending requests.
    let drain = match std::env::var("DRAIN") {
        Ok(d) => humantime::parse_duration(&d)?,
        Err(_) => Duration::ZERO,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    let token = ctx.token().clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            token.cancelled().await;
            tokio::time::sleep(drain).await;
        })
        .await?;
    tracing::info!("web server drained");
    Ok(())
}

/// Refreshes a cache every 5 s.
#[host::periodic(name = "refresh-cache", every = "5s")]
async fn refresh_cache(tick: Tick) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(120)).await;
    tracing::info!(run = tick.run(), "cache refreshed");
    Ok(())
}

/// Synchronises orders 10 s after each sync ends.
#[host::periodic(name = "sync-orders", fixed_delay = "10s", jitter = "1s")]
async fn sync_orders() -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

/// An import whose upstream is down: every run fails, so after three runs it is degraded.
#[host::periodic(name = "flaky-import", every = "2s", timeout = "1s")]
async fn flaky_import() -> anyhow::Result<()> {
    anyhow::bail!("upstream returned 502 Bad Gateway")
}

/// A nightly report at 02:30 Berlin time.
#[host::periodic(name = "nightly-report", cron = "0 30 2 * * *", tz = "Europe/Berlin")]
async fn nightly_report() -> anyhow::Result<()> {
    Ok(())
}

/// Sends queued e-mail until shutdown.
#[host::hosted_service(name = "mailer")]
async fn mailer(ctx: Context) -> anyhow::Result<()> {
    ctx.cancelled().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    host::run().await
}
