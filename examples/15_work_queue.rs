//! A background work queue behind a web endpoint: `POST /emails` (a JSON body) enqueues an e-mail
//! and answers `202 Accepted` at once; a `#[host::queue_worker]` with concurrency 4 "sends" them
//! (a log line after a short delay). On SIGTERM or Ctrl+C the server stops accepting, the queue
//! closes (a late request gets `503`), and the workers drain what is queued before the process
//! exits with code 0. `GET /queue` shows the queue's counters.
//!
//! ```sh
//! cargo run -p examples --example 15_work_queue            # PORT=3001 by default
//! curl -i localhost:3001/emails -H 'content-type: application/json' \
//!      -d '{"to":"ada@example.com","subject":"hello"}'
//! curl localhost:3001/queue
//! ```
//!
//! `SEND_MS` sets how long one e-mail takes (default 200 ms).

use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use host::Context;
use host::queue::{DeadLetter, QueueError, QueueHandle};
use serde::Deserialize;

/// The queue's item: what a request hands to the background worker.
#[derive(Clone, Debug, Deserialize)]
struct Email {
    to: String,
    subject: String,
}

/// How long one e-mail takes: `SEND_MS`, default 200 ms.
static SEND_TIME: LazyLock<Duration> = LazyLock::new(|| {
    Duration::from_millis(
        std::env::var("SEND_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200),
    )
});

/// The worker: 4 e-mails at a time, up to 1000 waiting, 3 attempts each.
#[host::queue_worker(name = "mailer", capacity = 1000, concurrency = 4, attempts = 3, backoff = "500ms", dead_letter = undeliverable)]
async fn send_email(email: Email, _ctx: Context) -> anyhow::Result<()> {
    tokio::time::sleep(*SEND_TIME).await;
    anyhow::ensure!(email.to.contains('@'), "invalid address `{}`", email.to);
    tracing::info!(to = %email.to, subject = %email.subject, "e-mail sent");
    Ok(())
}

/// Where e-mails go after their last failed attempt.
async fn undeliverable(letter: DeadLetter<Email>) {
    tracing::error!(to = %letter.item.to, attempts = letter.attempts, error = %letter.error, "e-mail undeliverable");
}

/// `POST /emails`: one call hands the e-mail to the worker.
async fn enqueue(State(queue): State<QueueHandle<Email>>, Json(email): Json<Email>) -> (StatusCode, String) {
    match queue.enqueue(email).await {
        Ok(()) => (StatusCode::ACCEPTED, "queued\n".to_owned()),
        Err(e @ QueueError::Closed { .. }) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// `GET /queue`: the counters.
async fn stats(State(queue): State<QueueHandle<Email>>) -> Json<serde_json::Value> {
    let s = queue.stats();
    Json(serde_json::json!({
        "depth": s.depth, "in_flight": s.in_flight, "processed": s.processed, "failed": s.failed,
        "retried": s.retried, "dead_lettered": s.dead_lettered, "handed_back": s.handed_back,
    }))
}

/// The HTTP front end, a hosted service too: it starts after the queue (`order = 1`) and stops
/// accepting when the host shuts down.
#[host::hosted_service(order = 1)]
async fn http(ctx: Context) -> anyhow::Result<()> {
    let queue = ctx.host().queue::<Email>()?;
    let app = Router::new()
        .route("/emails", post(enqueue))
        .route("/queue", get(stats))
        .with_state(queue);
    let port = std::env::var("PORT").unwrap_or_else(|_| "3001".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    let stop = ctx.token().clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    host::run().await
}
