//! Metrics for Prometheus: the host records runs, failures, restarts, run duration and lateness,
//! and each service's state (feature `metrics`); `metrics-exporter-prometheus` renders them at
//! `/metrics`, served by the app's axum router next to the host's endpoints.
//!
//! `cargo run -p examples --example 17_prometheus`, then `curl http://127.0.0.1:3000/metrics`
//! (`PORT` changes the port). Ctrl+C stops it.

use std::time::Duration;

use axum::{Router, routing::get};
use host::{Context, Host, Schedule, Service, Tick};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// A job whose every fourth run fails.
#[host::periodic(name = "import", every = "1s")]
async fn import(tick: Tick) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(40)).await;
    anyhow::ensure!(!tick.run().is_multiple_of(4), "run {} failed", tick.run());
    Ok(())
}

/// Serves the host's endpoints and `/metrics`.
async fn serve(ctx: Context, prometheus: PrometheusHandle) -> anyhow::Result<()> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse()?,
        Err(_) => 3000,
    };
    let app: Router = Router::new()
        .route("/metrics", get(move || std::future::ready(prometheus.render())))
        .merge(host::http::router(ctx.host().clone()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("metrics at http://{}/metrics", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(ctx.token().clone().cancelled_owned())
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    // Install the recorder BEFORE the host starts: each service registers its metrics once, then.
    let prometheus = PrometheusBuilder::new()
        // Prometheus histograms (buckets in seconds) rather than summaries.
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0],
        )?
        .install_recorder()?;
    let upkeep = prometheus.clone();
    let web = prometheus.clone();
    Host::builder()
        .service(Service::hosted("web", WebServer(web)).order(-10))
        // The exporter needs its upkeep run now and then: a periodic service of its own.
        .service(Service::periodic(
            "prometheus-upkeep",
            Schedule::every(Duration::from_secs(5)),
            move |_: Context, _: Tick| {
                upkeep.run_upkeep();
                std::future::ready(())
            },
        ))
        .build()?
        .run()
        .await?;
    Ok(())
}

/// The web server as a hosted service built by hand (it needs the Prometheus handle).
struct WebServer(PrometheusHandle);

impl host::HostedService for WebServer {
    async fn run(&mut self, ctx: &Context) -> Result<(), host::BoxError> {
        Ok(serve(ctx.clone(), self.0.clone()).await?)
    }
}
