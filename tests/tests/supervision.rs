//! Supervision under tokio's paused clock: restart back-off, restart intensity, and the status
//! snapshot.

mod common;

use std::time::Duration;

use common::{Recorder, builder, secs, stop_after};
use host::{
    BoxError, Context, Error, FailurePolicy, HostedService, Restart, Schedule, Service, ServiceKind, State, Tick,
};

/// Fails (or panics) each time its body runs, after `runs_for(attempt)`.
struct Flaky {
    rec: Recorder,
    attempt: u32,
    runs_for: fn(u32) -> Duration,
    panics: bool,
}

impl HostedService for Flaky {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.attempt += 1;
        self.rec.record("run");
        tokio::select! {
            _ = ctx.cancelled() => return Ok(()),
            _ = tokio::time::sleep((self.runs_for)(self.attempt)) => {}
        }
        if self.panics {
            panic!("attempt {} exploded", self.attempt);
        }
        Err(format!("attempt {} failed", self.attempt).into())
    }
}

fn flaky(rec: &Recorder, runs_for: fn(u32) -> Duration) -> Flaky {
    Flaky {
        rec: rec.clone(),
        attempt: 0,
        runs_for,
        panics: false,
    }
}

#[tokio::test(start_paused = true)]
async fn restarts_follow_the_exact_exponential_back_off_then_escalate() {
    let rec = Recorder::new();
    let restart = Restart::new()
        .initial(secs(1))
        .factor(2.0)
        .max(secs(10))
        .intensity(6, secs(600));
    let host = builder()
        .service(Service::hosted("flaky", flaky(&rec, |_| Duration::ZERO)).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap();
    let handle = host.handle();
    let err = host.run().await.unwrap_err();
    // Delays 1, 2, 4, 8, then capped at 10, 10; the 7th failure is the 7th within 600 s: escalate.
    assert_eq!(
        rec.times("run"),
        [secs(0), secs(1), secs(3), secs(7), secs(15), secs(25), secs(35)]
    );
    let Error::ServiceFailed { failures, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures[0].service, "flaky");
    assert_eq!(failures[0].failure.to_string(), "attempt 7 failed");
    assert_eq!(rec.elapsed(), secs(35));
    drop(handle);
}

#[tokio::test(start_paused = true)]
async fn the_default_restart_policy_escalates_after_five_restarts() {
    let rec = Recorder::new();
    let host = builder()
        .on_failure(FailurePolicy::Restart(Restart::new()))
        .service(Service::hosted("flaky", flaky(&rec, |_| Duration::ZERO)))
        .build()
        .unwrap();
    host.run().await.unwrap_err();
    // The documented default: restarted after 1, 2, 4, 8 and 16 s, then the host stops.
    assert_eq!(
        rec.times("run"),
        [secs(0), secs(1), secs(3), secs(7), secs(15), secs(31)]
    );
}

#[tokio::test(start_paused = true)]
async fn restarts_older_than_the_window_are_forgotten_and_the_back_off_resets() {
    let rec = Recorder::new();
    // Attempt 1 fails at once; attempt 2 runs 100 s; attempt 3 runs until the stop.
    let runs_for = |attempt| match attempt {
        1 => Duration::ZERO,
        2 => secs(100),
        _ => secs(1000),
    };
    let restart = Restart::new().initial(secs(1)).intensity(1, secs(60));
    let host = builder()
        .service(Service::hosted("flaky", flaky(&rec, runs_for)).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(110));
    host.run().await.unwrap();
    // The restart at 1 s is older than 60 s when attempt 2 fails at 101 s: the next delay is the
    // initial one again, and one restart in the window is allowed.
    assert_eq!(rec.times("run"), [secs(0), secs(1), secs(102)]);
}

#[tokio::test(start_paused = true)]
async fn intensity_escalates_to_stop_host_with_the_other_services_stopped() {
    let rec = Recorder::new();
    let restart = Restart::new().initial(secs(1)).intensity(3, secs(60));
    let ticks = rec.clone();
    let host = builder()
        .service(Service::hosted("flaky", flaky(&rec, |_| Duration::ZERO)).on_failure(FailurePolicy::Restart(restart)))
        .service(Service::periodic("ticker", Schedule::every(secs(5)), move |_, _| {
            let ticks = ticks.clone();
            async move { ticks.record("tick") }
        }))
        .build()
        .unwrap();
    let err = host.run().await.unwrap_err();
    assert_eq!(rec.times("run"), [secs(0), secs(1), secs(3), secs(7)]);
    assert_eq!(rec.times("tick"), [secs(0), secs(5)]);
    assert_eq!(err.exit_code(), std::process::ExitCode::from(1));
}

#[tokio::test(start_paused = true)]
async fn panics_are_restarted_like_errors() {
    let rec = Recorder::new();
    let restart = Restart::new().initial(secs(2)).intensity(1, secs(60));
    let panicky = Flaky {
        panics: true,
        ..flaky(&rec, |_| secs(1))
    };
    let err = builder()
        .service(Service::hosted("panicky", panicky).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    assert_eq!(rec.times("run"), [secs(0), secs(3)]);
    assert_eq!(
        err.to_string(),
        "1 service failed: `panicky`: panicked: attempt 2 exploded"
    );
}

#[tokio::test(start_paused = true)]
async fn restart_jitter_stays_within_its_fraction() {
    let rec = Recorder::new();
    let restart = Restart::new()
        .initial(secs(10))
        .factor(1.0)
        .jitter(0.5)
        .intensity(20, secs(3600));
    let host = builder()
        .service(Service::hosted("flaky", flaky(&rec, |_| Duration::ZERO)).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(200));
    host.run().await.unwrap();
    let runs = rec.times("run");
    let gaps: Vec<_> = runs.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 13, "{gaps:?}");
    assert!(gaps.iter().all(|g| *g >= secs(10) && *g <= secs(15)), "{gaps:?}");
    assert!(gaps.iter().any(|g| *g != gaps[0]), "jitter never varied: {gaps:?}");
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_the_back_off_ends_the_service_cleanly() {
    let rec = Recorder::new();
    let restart = Restart::new().initial(secs(30));
    let host = builder()
        .service(Service::hosted("flaky", flaky(&rec, |_| secs(1))).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(5));
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("run"), [secs(0)]);
    assert_eq!(rec.elapsed(), secs(5));
    assert!(report.is_clean());
}

#[tokio::test(start_paused = true)]
async fn the_status_snapshot_shows_states_counters_and_times() {
    let rec = Recorder::new();
    let restart = Restart::new().initial(secs(20)).intensity(10, secs(600));
    let job = |_: Context, tick: Tick| async move { if tick.run() == 2 { Err("transient") } else { Ok(()) } };
    let host = builder()
        .service(Service::hosted("flaky", flaky(&rec, |_| secs(3))).on_failure(FailurePolicy::Restart(restart)))
        .service(Service::periodic("report", Schedule::every(secs(10)), job).order(-1))
        .service(Service::hosted("idle", IdleService))
        .build()
        .unwrap();
    let handle = host.handle();
    assert!(handle.status().is_empty(), "no snapshot before the host runs");
    let t0 = tokio::time::Instant::now();
    stop_after(&handle, secs(60));
    let run = tokio::spawn(host.run());
    tokio::time::sleep(secs(15)).await;

    let status = handle.status();
    let names: Vec<_> = status.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["report", "flaky", "idle"]);

    let report = &status[0];
    assert_eq!(report.kind, ServiceKind::Periodic);
    assert_eq!(report.state, State::Waiting);
    assert_eq!((report.runs, report.failures, report.restarts), (2, 1, 0));
    assert_eq!(report.last_error.as_deref(), Some("transient"));
    assert_eq!(report.last_run_started, Some(t0 + secs(10)));
    assert_eq!(report.last_run_ended, Some(t0 + secs(10)));
    assert_eq!(report.next_run, Some(t0 + secs(20)));

    let flaky = &status[1];
    assert_eq!(flaky.kind, ServiceKind::Hosted);
    assert_eq!(flaky.state, State::Restarting);
    assert_eq!((flaky.runs, flaky.failures, flaky.restarts), (1, 1, 0));
    assert_eq!(flaky.last_error.as_deref(), Some("attempt 1 failed"));
    assert_eq!(flaky.next_run, Some(t0 + secs(23)));

    let idle = &status[2];
    assert_eq!(idle.state, State::Running);
    assert_eq!(idle.runs, 1);

    tokio::time::sleep(secs(10)).await; // 25 s: flaky restarted at 23 s
    let flaky = &handle.status()[1];
    assert_eq!((flaky.state, flaky.restarts, flaky.runs), (State::Running, 1, 2));

    run.await.unwrap().unwrap();
    assert!(
        handle.status().is_empty(),
        "the snapshot is released when the host stops"
    );
}

struct IdleService;
impl HostedService for IdleService {}
