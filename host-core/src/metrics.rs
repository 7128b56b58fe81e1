//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (feature `metrics`).
//!
//! Every service records, labelled `service="<name>"`:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `host_service_runs_total` | counter | finished runs (periodic runs; for a hosted service, its body's runs) |
//! | `host_service_failures_total` | counter | failed runs: errors, panics, timeouts |
//! | `host_service_restarts_total` | counter | restarts under the `restart` policy |
//! | `host_service_run_duration_seconds` | histogram | how long each run took |
//! | `host_service_run_lateness_seconds` | histogram | how late each periodic run started (`Tick::lateness`) |
//! | `host_service_state` | gauge | the service's [`State`], as the number in [`state_code`] |
//!
//! Every [work queue](crate::queue) also records, labelled `queue="<name>"` and published from
//! its counters once a second (so that items cost nothing extra) and once more when it has drained:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `host_queue_depth` | gauge | items waiting |
//! | `host_queue_in_flight` | gauge | items taken by a worker, not yet settled |
//! | `host_queue_processed_total` | counter | items processed |
//! | `host_queue_failed_total` | counter | failed attempts (errors and panics) |
//! | `host_queue_retried_total` | counter | attempts that were retries |
//! | `host_queue_dead_lettered_total` | counter | items given to the dead-letter hook |
//! | `host_queue_handed_back_total` | counter | items handed to the leftovers hook at shutdown |
//!
//! Install a recorder (for example `metrics-exporter-prometheus`, see
//! `examples/17_prometheus.rs`) **before** the host runs: each service registers its handles
//! once, when the host starts it, and keeps them, so recording a run is a few calls on those
//! handles with no lookup, lock or allocation of the host's own (what a histogram sample costs is
//! the recorder's: the Prometheus exporter buffers samples in blocks it allocates as they fill).
//! Without a recorder every handle is a no-op.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

use crate::status::State;

/// The value of the `host_service_state` gauge for each [`State`]: `0` pending, `1` starting,
/// `2` running, `3` waiting, `4` restarting, `5` stopping, `6` stopped, `7` failed, `8` aborted.
pub fn state_code(state: State) -> u8 {
    state as u8
}

/// One service's metric handles, registered once when the host starts it.
pub(crate) struct ServiceMetrics {
    runs: Counter,
    failures: Counter,
    restarts: Counter,
    duration: Histogram,
    lateness: Histogram,
    state: Gauge,
}

impl ServiceMetrics {
    pub(crate) fn new(service: &str) -> Self {
        let label = || [("service", service.to_owned())];
        metrics::describe_counter!(
            "host_service_runs_total",
            "Finished runs (periodic runs; for a hosted service, its body)."
        );
        metrics::describe_counter!(
            "host_service_failures_total",
            "Failed runs: errors, panics and timeouts."
        );
        metrics::describe_counter!("host_service_restarts_total", "Restarts under the restart policy.");
        metrics::describe_histogram!(
            "host_service_run_duration_seconds",
            metrics::Unit::Seconds,
            "How long each run took."
        );
        metrics::describe_histogram!(
            "host_service_run_lateness_seconds",
            metrics::Unit::Seconds,
            "How late each periodic run started."
        );
        metrics::describe_gauge!(
            "host_service_state",
            "0 pending, 1 starting, 2 running, 3 waiting, 4 restarting, 5 stopping, 6 stopped, 7 failed, 8 aborted."
        );
        ServiceMetrics {
            runs: metrics::counter!("host_service_runs_total", &label()),
            failures: metrics::counter!("host_service_failures_total", &label()),
            restarts: metrics::counter!("host_service_restarts_total", &label()),
            duration: metrics::histogram!("host_service_run_duration_seconds", &label()),
            lateness: metrics::histogram!("host_service_run_lateness_seconds", &label()),
            state: metrics::gauge!("host_service_state", &label()),
        }
    }

    /// A run ended after `duration`; `lateness` is `None` for a hosted service's body.
    pub(crate) fn on_run_end(&self, duration: Duration, lateness: Option<Duration>, ok: bool) {
        self.runs.increment(1);
        if !ok {
            self.failures.increment(1);
        }
        self.duration.record(duration.as_secs_f64());
        if let Some(lateness) = lateness {
            self.lateness.record(lateness.as_secs_f64());
        }
    }

    /// A hosted service's body ended (no duration: a body runs for the host's lifetime).
    pub(crate) fn on_body_end(&self, ok: bool) {
        self.runs.increment(1);
        if !ok {
            self.failures.increment(1);
        }
    }

    /// The service was restarted under the `restart` policy.
    pub(crate) fn on_restart(&self) {
        self.restarts.increment(1);
    }

    /// The service entered `state`.
    pub(crate) fn on_state(&self, state: State) {
        self.state.set(f64::from(state_code(state)));
    }
}

/// A work queue's metric handles, labelled `queue="<name>"`: `host_queue_depth` and
/// `host_queue_in_flight` (gauges), `host_queue_processed_total`, `host_queue_failed_total`,
/// `host_queue_retried_total`, `host_queue_dead_lettered_total` and `host_queue_handed_back_total`
/// (counters). Published from the queue's counters once a second while it runs, and once more when
/// it has drained, so that items cost nothing extra.
pub(crate) struct QueueMetrics {
    depth: Gauge,
    in_flight: Gauge,
    processed: Counter,
    failed: Counter,
    retried: Counter,
    dead_lettered: Counter,
    handed_back: Counter,
}

impl QueueMetrics {
    pub(crate) fn new(queue: &str) -> Self {
        let label = || [("queue", queue.to_owned())];
        QueueMetrics {
            depth: metrics::gauge!("host_queue_depth", &label()),
            in_flight: metrics::gauge!("host_queue_in_flight", &label()),
            processed: metrics::counter!("host_queue_processed_total", &label()),
            failed: metrics::counter!("host_queue_failed_total", &label()),
            retried: metrics::counter!("host_queue_retried_total", &label()),
            dead_lettered: metrics::counter!("host_queue_dead_lettered_total", &label()),
            handed_back: metrics::counter!("host_queue_handed_back_total", &label()),
        }
    }

    /// Publishes the queue's counters as they are now.
    pub(crate) fn record(&self, s: crate::queue::QueueStats) {
        // Depths fit an f64 exactly far beyond any queue's capacity.
        #[expect(clippy::cast_precision_loss, reason = "queue depths are far below 2^53")]
        {
            self.depth.set(s.depth as f64);
            self.in_flight.set(s.in_flight as f64);
        }
        self.processed.absolute(s.processed);
        self.failed.absolute(s.failed);
        self.retried.absolute(s.retried);
        self.dead_lettered.absolute(s.dead_lettered);
        self.handed_back.absolute(s.handed_back);
    }
}

/// Publishes `queue`'s counters once a second, for as long as this future runs.
pub(crate) async fn publish_queue(host: crate::HostHandle, queue: std::sync::Arc<str>) {
    let metrics = QueueMetrics::new(&queue);
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        if let Some(stats) = host.queue_stats(&queue) {
            metrics.record(stats);
        }
    }
}
