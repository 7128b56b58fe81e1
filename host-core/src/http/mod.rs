//! Health, readiness and status endpoints, and a status dashboard, as an [axum] router (feature
//! `http`).
//!
//! [`router`] serves, relative to wherever you mount it:
//!
//! | route | answers |
//! |---|---|
//! | `GET /health/live` | `200 live` while the host runs and no service has [`Health::Failed`]; else `503` |
//! | `GET /health/ready` | `200 ready` once every service has started, until shutdown begins; else `503` |
//! | `GET /status` | the [`Snapshot`] as JSON: the host's phase and every service's state, counters and times |
//! | `GET /` | the dashboard: one self-contained HTML page, refreshed every 3 s |
//!
//! Readiness turns `503` at the first instant of shutdown: it reads
//! [`HostHandle::is_stop_requested`], which a signal, [`HostHandle::stop`] or a failing service sets
//! before any service is told to stop, so a load balancer drains the instance while its services
//! still run.
//!
//! # Health of a service
//!
//! | health | when |
//! |---|---|
//! | [`Failed`](Health::Failed) | the service has ended with a failure its policy did not recover ([`State::Failed`]), or was aborted at the shutdown timeout ([`State::Aborted`]) |
//! | [`Degraded`](Health::Degraded) | it is [`State::Restarting`] (waiting out a back-off), or it is periodic and its last [`DEGRADED_AFTER`] runs all failed |
//! | [`Healthy`](Health::Healthy) | otherwise |
//!
//! The host's health is the worst of its services'. Liveness fails on `Failed` only: a degraded
//! service is being handled by its policy (a restart, or a schedule that goes on), and restarting
//! the process would not help it sooner.
//!
//! ```no_run
//! use axum::{Router, routing::get};
//!
//! # async fn demo(handle: host::HostHandle) -> std::io::Result<()> {
//! let app: Router = Router::new()
//!     .route("/hello", get(|| async { "hello" }))
//!     .merge(host::http::router(handle)); // or .nest("/ops", host::http::router(handle))
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! [axum]: https://docs.rs/axum

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use crate::clock::Rfc3339;
use crate::handle::{HostHandle, Phase};
use crate::status::{ServiceKind, ServiceStatus, State};

/// A periodic service whose last this many runs all failed is [`Health::Degraded`].
pub const DEGRADED_AFTER: u32 = 3;

/// How a service (or the host) is doing; see the [module docs](self) for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Health {
    /// Working as intended.
    Healthy,
    /// Restarting, or its recent periodic runs all failed.
    Degraded,
    /// Ended with a failure, or aborted.
    Failed,
}

impl Health {
    /// The health of one service, by the rule in the [module docs](self).
    pub fn of(status: &ServiceStatus) -> Health {
        match status.state {
            State::Failed | State::Aborted => Health::Failed,
            State::Restarting => Health::Degraded,
            _ if status.kind == ServiceKind::Periodic && status.consecutive_failures >= DEGRADED_AFTER => {
                Health::Degraded
            }
            _ => Health::Healthy,
        }
    }
}

/// What `GET /status` returns: the host and every service, in start order.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// `created`, `starting`, `started`, `stopping` or `stopped`.
    pub phase: &'static str,
    /// What `GET /health/live` answers.
    pub live: bool,
    /// What `GET /health/ready` answers.
    pub ready: bool,
    /// The worst health of any service (`healthy` with no services).
    pub health: Health,
    /// When the snapshot was taken (RFC 3339, UTC), for relative times.
    pub now: String,
    /// Every service, in start order.
    pub services: Vec<ServiceView>,
}

/// One service in a [`Snapshot`]; times are RFC 3339 wall-clock timestamps in UTC.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ServiceView {
    /// The service's name.
    pub name: String,
    /// `hosted` or `periodic`.
    pub kind: &'static str,
    /// `pending`, `starting`, `running`, `waiting`, `restarting`, `stopping`, `stopped`, `failed`
    /// or `aborted`.
    pub state: &'static str,
    /// See [`Health::of`].
    pub health: Health,
    /// A periodic service's schedule (`every 30s, jitter 2s`); `null` for a hosted service.
    pub schedule: Option<String>,
    /// Runs started (for a hosted service: how often its body started).
    pub runs: u64,
    /// Failed runs.
    pub failures: u64,
    /// Failed periodic runs since the last successful one.
    pub consecutive_failures: u32,
    /// Restarts under the `restart` policy.
    pub restarts: u64,
    /// The text of the last failure.
    pub last_error: Option<String>,
    /// When the last run (or body) started.
    pub last_run_started: Option<String>,
    /// When the last run (or body) ended.
    pub last_run_ended: Option<String>,
    /// When the next periodic run (or a restart) is due.
    pub next_run: Option<String>,
    /// A work queue's counters; `null` for other services.
    pub queue: Option<QueueView>,
    /// A singleton job's coordination backend: `available` or `unavailable`; `null` for other
    /// services (or before the first attempt).
    pub coordination: Option<&'static str>,
}

/// A work queue's counters in [`ServiceView`].
#[derive(Debug, Clone, Copy, Serialize)]
#[non_exhaustive]
pub struct QueueView {
    /// Items waiting.
    pub depth: u64,
    /// Items taken by a worker, not yet settled.
    pub in_flight: u64,
    /// Items processed.
    pub processed: u64,
    /// Failed attempts.
    pub failed: u64,
    /// Items dead-lettered.
    pub dead_lettered: u64,
    /// Items handed back at shutdown.
    pub handed_back: u64,
}

impl Snapshot {
    /// Takes a snapshot of `handle`'s host.
    pub fn of(handle: &HostHandle) -> Snapshot {
        let services: Vec<ServiceView> = handle.status().iter().map(ServiceView::from).collect();
        let health = services.iter().map(|s| s.health).max().unwrap_or(Health::Healthy);
        let phase = handle.phase();
        Snapshot {
            phase: phase_name(phase),
            live: phase != Phase::Stopped && health != Health::Failed,
            ready: is_ready(handle),
            health,
            now: Rfc3339(tokio::time::Instant::now()).to_string(),
            services,
        }
    }
}

impl From<&ServiceStatus> for ServiceView {
    fn from(s: &ServiceStatus) -> Self {
        let time = |t: Option<tokio::time::Instant>| t.map(|t| Rfc3339(t).to_string());
        ServiceView {
            name: s.name.clone(),
            kind: match s.kind {
                ServiceKind::Hosted => "hosted",
                ServiceKind::Periodic => "periodic",
            },
            state: state_name(s.state),
            health: Health::of(s),
            schedule: s.schedule.clone(),
            runs: s.runs,
            failures: s.failures,
            consecutive_failures: s.consecutive_failures,
            restarts: s.restarts,
            last_error: s.last_error.clone(),
            last_run_started: time(s.last_run_started),
            last_run_ended: time(s.last_run_ended),
            next_run: time(s.next_run),
            coordination: s.coordination.map(|c| match c {
                crate::coordination::CoordinationState::Available => "available",
                crate::coordination::CoordinationState::Unavailable => "unavailable",
            }),
            queue: s.queue.map(|q| QueueView {
                depth: q.depth,
                in_flight: q.in_flight,
                processed: q.processed,
                failed: q.failed,
                dead_lettered: q.dead_lettered,
                handed_back: q.handed_back,
            }),
        }
    }
}

/// Ready: every service has started and no stop has been requested.
fn is_ready(handle: &HostHandle) -> bool {
    handle.phase() == Phase::Started && !handle.is_stop_requested()
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Created => "created",
        Phase::Starting => "starting",
        Phase::Started => "started",
        Phase::Stopping => "stopping",
        Phase::Stopped => "stopped",
    }
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Pending => "pending",
        State::Starting => "starting",
        State::Running => "running",
        State::Waiting => "waiting",
        State::Restarting => "restarting",
        State::Stopping => "stopping",
        State::Stopped => "stopped",
        State::Failed => "failed",
        State::Aborted => "aborted",
    }
}

/// The endpoints and the dashboard for `handle`'s host, to merge into (or nest in) your app's
/// router; see the [module docs](self). Generic over the app's state, so it merges into any
/// `Router<S>`.
///
/// `merge` panics (axum's rule) if your router has a route of its own at `/`, `/status` or
/// `/health/…`: then `nest("/ops", router(handle))` and find the dashboard at `/ops`.
pub fn router<S>(handle: HostHandle) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let (live, ready, status, page) = (handle.clone(), handle.clone(), handle.clone(), handle);
    Router::new()
        .route("/health/live", get(move || std::future::ready(live_response(&live))))
        .route("/health/ready", get(move || std::future::ready(ready_response(&ready))))
        .route("/status", get(move || std::future::ready(status_response(&status))))
        .route("/", get(move || std::future::ready(dashboard_response(&page))))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn live_response(handle: &HostHandle) -> Response {
    let snapshot = Snapshot::of(handle);
    let response = if snapshot.live {
        (StatusCode::OK, "live\n".to_owned())
    } else if snapshot.phase == "stopped" {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not live: the host has stopped\n".to_owned(),
        )
    } else {
        let failed: Vec<&str> = snapshot
            .services
            .iter()
            .filter(|s| s.health == Health::Failed)
            .map(|s| s.name.as_str())
            .collect();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not live: failed: {}\n", failed.join(", ")),
        )
    };
    no_store(response.into_response())
}

fn ready_response(handle: &HostHandle) -> Response {
    let response = if is_ready(handle) {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        let why = if handle.is_stop_requested() {
            "shutting down"
        } else {
            phase_name(handle.phase())
        };
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n"))
    };
    no_store(response.into_response())
}

fn status_response(handle: &HostHandle) -> Response {
    no_store(axum::Json(Snapshot::of(handle)).into_response())
}

/// The page, with the first snapshot inlined so that it renders without a round trip.
const DASHBOARD: &str = include_str!("dashboard.html");

fn dashboard_response(handle: &HostHandle) -> Response {
    let json = match serde_json::to_string(&Snapshot::of(handle)) {
        Ok(json) => json,
        Err(error) => {
            tracing::error!(%error, "cannot serialize the status snapshot");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot serialize the status\n").into_response();
        }
    };
    // Inside a <script> element: `<` is escaped so that no text of a service (an error message)
    // can close the element. `\u003c` is the same character to the JSON parser.
    let json = json.replace('<', "\\u003c");
    let page = DASHBOARD.replacen("/*SNAPSHOT*/null", &json, 1);
    no_store(axum::response::Html(page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(kind: ServiceKind, state: State, consecutive_failures: u32) -> ServiceStatus {
        ServiceStatus {
            name: "s".into(),
            kind,
            state,
            runs: 10,
            failures: 5,
            restarts: 0,
            consecutive_failures,
            last_error: None,
            last_run_started: None,
            last_run_ended: None,
            next_run: None,
            schedule: None,
            queue: None,
            coordination: None,
        }
    }

    #[test]
    fn health_rule() {
        use ServiceKind::{Hosted, Periodic};
        assert_eq!(Health::of(&status(Periodic, State::Waiting, 0)), Health::Healthy);
        assert_eq!(
            Health::of(&status(Periodic, State::Waiting, DEGRADED_AFTER - 1)),
            Health::Healthy
        );
        assert_eq!(
            Health::of(&status(Periodic, State::Waiting, DEGRADED_AFTER)),
            Health::Degraded
        );
        assert_eq!(
            Health::of(&status(Hosted, State::Running, DEGRADED_AFTER)),
            Health::Healthy
        );
        assert_eq!(Health::of(&status(Hosted, State::Restarting, 0)), Health::Degraded);
        assert_eq!(Health::of(&status(Hosted, State::Failed, 0)), Health::Failed);
        assert_eq!(Health::of(&status(Periodic, State::Aborted, 0)), Health::Failed);
        assert!(Health::Failed > Health::Degraded && Health::Degraded > Health::Healthy);
    }
}
