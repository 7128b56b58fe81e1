//! Metrics (feature `metrics`), asserted through `metrics-util`'s debugging recorder under tokio's
//! paused clock: exact counts, durations and lateness.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use host::{
    BoxError, Context, FailurePolicy, Host, HostedService, MissedTicks, Phase, Restart, Schedule, Service, Tick,
};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// One recorder for the whole test binary (metrics' recorder is global), and one test at a time:
/// a snapshot drains every metric.
async fn recorder() -> (&'static Snapshotter, tokio::sync::MutexGuard<'static, ()>) {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let snapshotter = SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("no other recorder in this test binary");
        snapshotter
    });
    (snapshotter, SERIAL.lock().await)
}

/// `metric name → value` for the service `service`.
fn values_of(snapshotter: &Snapshotter, service: &str) -> HashMap<String, DebugValue> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().labels().any(|l| l.key() == "service" && l.value() == service))
        .map(|(key, _, _, value)| (key.key().name().to_owned(), value))
        .collect()
}

fn histogram(values: &HashMap<String, DebugValue>, name: &str) -> Vec<f64> {
    match &values[name] {
        DebugValue::Histogram(v) => v.iter().map(|x| x.into_inner()).collect(),
        other => panic!("{name} is {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn periodic_runs_record_counts_durations_lateness_and_state() {
    let (snapshotter, _serial) = recorder().await;
    // every 10 s, burst: run 1 takes 12 s (at 0), run 2 (due 10) starts at 12, 2 s late, takes 1 s
    // and fails; run 3 at 20 takes 1 s.
    let job = |ctx: Context, tick: Tick| async move {
        let took = if tick.run() == 1 { 12 } else { 1 };
        tokio::time::sleep(secs(took)).await;
        if tick.run() == 3 {
            ctx.host().stop();
        }
        if tick.run() == 2 { Err("run 2 fails") } else { Ok(()) }
    };
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::periodic(
            "metrics-periodic",
            Schedule::every(secs(10)).missed_ticks(MissedTicks::Burst),
            job,
        ))
        .build()
        .unwrap();
    host.run().await.unwrap();

    let values = values_of(snapshotter, "metrics-periodic");
    assert_eq!(values["host_service_runs_total"], DebugValue::Counter(3));
    assert_eq!(values["host_service_failures_total"], DebugValue::Counter(1));
    assert_eq!(values["host_service_restarts_total"], DebugValue::Counter(0));
    assert_eq!(
        histogram(&values, "host_service_run_duration_seconds"),
        [12.0, 1.0, 1.0]
    );
    assert_eq!(histogram(&values, "host_service_run_lateness_seconds"), [0.0, 2.0, 0.0]);
    // The gauge holds the last state: stopped.
    assert_eq!(
        values["host_service_state"],
        DebugValue::Gauge(f64::from(host::metrics::state_code(host::State::Stopped)).into())
    );
}

/// Fails its first two bodies, then runs until cancelled.
struct Flaky(u32);

impl HostedService for Flaky {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.0 += 1;
        if self.0 <= 2 {
            return Err(format!("attempt {} failed", self.0).into());
        }
        ctx.cancelled().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn restarts_and_failed_bodies_are_counted_and_the_gauge_follows_the_state() {
    let (snapshotter, _serial) = recorder().await;
    let restart = Restart::new().initial(secs(1)).max(secs(1));
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::hosted("metrics-flaky", Flaky(0)).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap();
    let handle = host.handle();
    let task = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    // Two back-offs of 1 s, then the third body runs.
    tokio::time::sleep(secs(3)).await;
    let running = values_of(snapshotter, "metrics-flaky");
    assert_eq!(
        running["host_service_state"],
        DebugValue::Gauge(f64::from(host::metrics::state_code(host::State::Running)).into())
    );
    assert_eq!(running["host_service_restarts_total"], DebugValue::Counter(2));
    assert_eq!(running["host_service_failures_total"], DebugValue::Counter(2));
    assert_eq!(running["host_service_runs_total"], DebugValue::Counter(2));
    handle.stop();
    task.await.unwrap().unwrap();
    // The snapshot above drained the counters: only what happened since (the third body ended).
    let stopped = values_of(snapshotter, "metrics-flaky");
    assert_eq!(stopped["host_service_runs_total"], DebugValue::Counter(1));
    assert_eq!(stopped["host_service_failures_total"], DebugValue::Counter(0));
}

#[tokio::test(start_paused = true)]
async fn a_work_queue_publishes_its_counters() {
    let (snapshotter, _serial) = recorder().await;
    let (service, queue) = host::queue::Queue::builder("emails", |n: u32, _ctx: Context| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if n == 2 { Err("bounced") } else { Ok(()) }
    })
    .retry(host::queue::Retry::new().attempts(1))
    .build();
    for n in 0..4 {
        queue.enqueue(n).await.unwrap();
    }
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(service)
        .build()
        .unwrap();
    let handle = host.handle();
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    // Published once a second: at 1 s all four have been tried, one of them dead-lettered.
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    let values: HashMap<String, DebugValue> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().labels().any(|l| l.key() == "queue" && l.value() == "emails"))
        .map(|(key, _, _, value)| (key.key().name().to_owned(), value))
        .collect();
    assert_eq!(values["host_queue_processed_total"], DebugValue::Counter(3));
    assert_eq!(values["host_queue_failed_total"], DebugValue::Counter(1));
    assert_eq!(values["host_queue_dead_lettered_total"], DebugValue::Counter(1));
    assert_eq!(values["host_queue_depth"], DebugValue::Gauge(0.0.into()));
    handle.stop();
    run.await.unwrap().unwrap();
}
