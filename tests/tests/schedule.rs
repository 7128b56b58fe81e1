//! Periodic schedules under tokio's paused clock: exact instants for every mode.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{Recorder, builder, ms, secs, stop_after};
use host::{Context, Error, FailurePolicy, MissedTicks, Schedule, Service, Tick};

/// A job that records `run` at its start and `end` when done; each run takes `takes(run number)`.
fn recording_job(
    rec: &Recorder,
    takes: impl Fn(u64) -> Duration + Send + Sync + 'static,
) -> impl FnMut(Context, Tick) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + 'static {
    let rec = rec.clone();
    let takes = Arc::new(takes);
    move |_ctx, tick| {
        let (rec, takes) = (rec.clone(), takes.clone());
        Box::pin(async move {
            rec.record("run");
            tokio::time::sleep(takes(tick.run())).await;
            rec.record("end");
        })
    }
}

async fn run_for(
    schedule: Schedule,
    rec: &Recorder,
    takes: impl Fn(u64) -> Duration + Send + Sync + 'static,
    for_: Duration,
) {
    let host = builder()
        .service(Service::periodic("job", schedule, recording_job(rec, takes)))
        .build()
        .unwrap();
    stop_after(&host.handle(), for_);
    host.run().await.unwrap();
}

fn assert_never_overlaps(rec: &Recorder) {
    let (runs, ends) = (rec.times("run"), rec.times("end"));
    for (k, start) in runs.iter().enumerate().skip(1) {
        assert!(
            *start >= ends[k - 1],
            "run {} started at {start:?} before run {k} ended at {:?}",
            k + 1,
            ends[k - 1]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_runs_at_start_then_every_period() {
    let rec = Recorder::new();
    run_for(Schedule::every(secs(30)), &rec, |_| Duration::ZERO, secs(95)).await;
    assert_eq!(rec.times("run"), [secs(0), secs(30), secs(60), secs(90)]);
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_does_not_drift_with_run_time() {
    let rec = Recorder::new();
    run_for(Schedule::every(secs(10)), &rec, |_| ms(3_700), secs(45)).await;
    assert_eq!(rec.times("run"), [secs(0), secs(10), secs(20), secs(30), secs(40)]);
}

#[tokio::test(start_paused = true)]
async fn initial_delay_shifts_the_first_run() {
    let rec = Recorder::new();
    run_for(
        Schedule::every(secs(10)).initial_delay(secs(5)),
        &rec,
        |_| Duration::ZERO,
        secs(30),
    )
    .await;
    assert_eq!(rec.times("run"), [secs(5), secs(15), secs(25)]);
}

#[tokio::test(start_paused = true)]
async fn fixed_delay_pauses_after_each_run_ends() {
    let rec = Recorder::new();
    run_for(Schedule::fixed_delay(secs(10)), &rec, |_| secs(3), secs(45)).await;
    assert_eq!(rec.times("run"), [secs(0), secs(13), secs(26), secs(39)]);
    assert_never_overlaps(&rec);
}

/// `every = 10s`; the first run takes 25 s, later runs 1 s: the timelines in `MissedTicks`' docs.
fn overrun(run: u64) -> Duration {
    if run == 1 { secs(25) } else { secs(1) }
}

#[tokio::test(start_paused = true)]
async fn skip_drops_missed_ticks_and_stays_on_the_grid() {
    let rec = Recorder::new();
    run_for(
        Schedule::every(secs(10)).missed_ticks(MissedTicks::Skip),
        &rec,
        overrun,
        secs(45),
    )
    .await;
    assert_eq!(rec.times("run"), [secs(0), secs(30), secs(40)]);
    assert_never_overlaps(&rec);
}

#[tokio::test(start_paused = true)]
async fn burst_runs_every_missed_tick_back_to_back() {
    let rec = Recorder::new();
    let lateness = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = lateness.clone();
    let job = move |_ctx: Context, tick: Tick| {
        let (rec, seen) = (rec.clone(), seen.clone());
        async move {
            rec.record("run");
            seen.lock().unwrap().push((tick.run(), tick.lateness()));
            tokio::time::sleep(overrun(tick.run())).await;
            rec.record("end");
        }
    };
    let schedule = Schedule::every(secs(10)).missed_ticks(MissedTicks::Burst);
    let host = builder()
        .service(Service::periodic("job", schedule, job))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(45));
    host.run().await.unwrap();
    // Due at 10 and 20, both run (late), back to back; then the grid resumes.
    assert_eq!(
        *lateness.lock().unwrap(),
        [(1, secs(0)), (2, secs(15)), (3, secs(6)), (4, secs(0)), (5, secs(0))]
    );
}

#[tokio::test(start_paused = true)]
async fn burst_timeline_matches_the_docs() {
    let rec = Recorder::new();
    run_for(
        Schedule::every(secs(10)).missed_ticks(MissedTicks::Burst),
        &rec,
        overrun,
        secs(45),
    )
    .await;
    assert_eq!(rec.times("run"), [secs(0), secs(25), secs(26), secs(30), secs(40)]);
    assert_never_overlaps(&rec);
}

#[tokio::test(start_paused = true)]
async fn delay_runs_the_missed_tick_now_and_shifts_the_grid() {
    let rec = Recorder::new();
    run_for(
        Schedule::every(secs(10)).missed_ticks(MissedTicks::Delay),
        &rec,
        overrun,
        secs(50),
    )
    .await;
    assert_eq!(rec.times("run"), [secs(0), secs(25), secs(35), secs(45)]);
    assert_never_overlaps(&rec);
}

#[tokio::test(start_paused = true)]
async fn tick_information_counts_runs_and_measures_lateness() {
    let ticks = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = ticks.clone();
    let t0 = tokio::time::Instant::now();
    let job = move |_ctx: Context, tick: Tick| {
        seen.lock().unwrap().push(tick);
        async {}
    };
    let host = builder()
        .service(Service::periodic("job", Schedule::every(secs(5)), job))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(11));
    host.run().await.unwrap();
    let ticks = ticks.lock().unwrap();
    assert_eq!(ticks.iter().map(Tick::run).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        ticks.iter().map(|t| t.scheduled() - t0).collect::<Vec<_>>(),
        [secs(0), secs(5), secs(10)]
    );
    assert!(
        ticks
            .iter()
            .all(|t| t.lateness() == Duration::ZERO && t.started() == t.scheduled())
    );
}

#[tokio::test(start_paused = true)]
async fn jitter_stays_within_bounds_and_differs_between_services() {
    let rec = Recorder::new();
    let mut b = builder();
    for name in ["replica-a", "replica-b"] {
        let rec = rec.clone();
        let job = move |ctx: Context, _tick: Tick| {
            rec.record(ctx.name().to_owned());
            async {}
        };
        b = b.service(Service::periodic(name, Schedule::every(secs(10)).jitter(secs(3)), job));
    }
    let host = b.build().unwrap();
    stop_after(&host.handle(), secs(100));
    host.run().await.unwrap();
    let (a, b) = (rec.times("replica-a"), rec.times("replica-b"));
    assert_eq!(a.len(), 10);
    assert_eq!(b.len(), 10);
    for (k, (ta, tb)) in a.iter().zip(&b).enumerate() {
        let due = secs(10 * k as u64);
        for t in [ta, tb] {
            assert!(
                *t >= due && *t < due + secs(3),
                "run {k} at {t:?} outside [{due:?}, {:?})",
                due + secs(3)
            );
        }
    }
    assert_ne!(a, b, "two services drew the same jitter for ten runs");
    // The offsets vary from run to run too (the grid itself does not move).
    let offsets: std::collections::HashSet<_> = a.iter().enumerate().map(|(k, t)| *t - secs(10 * k as u64)).collect();
    assert!(offsets.len() > 1);
}

#[tokio::test(start_paused = true)]
async fn a_run_past_its_timeout_is_cancelled_dropped_and_counted_and_the_next_runs() {
    let rec = Recorder::new();
    let r = rec.clone();
    let job = move |ctx: Context, tick: Tick| {
        let r = r.clone();
        async move {
            r.record("run");
            if tick.run() == 1 {
                // Something the run handed its token to notices the cancellation.
                let token = ctx.token().clone();
                let r2 = r.clone();
                tokio::spawn(async move {
                    token.cancelled().await;
                    r2.record("run token cancelled");
                });
                std::future::pending::<()>().await;
            }
        }
    };
    let schedule = Schedule::every(secs(10)).timeout(secs(2));
    let host = builder()
        .service(Service::periodic("job", schedule, job))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, secs(15));
    let run = tokio::spawn(host.run());
    tokio::time::sleep(secs(12)).await;
    let status = handle.status();
    assert_eq!(status[0].failures, 1);
    assert_eq!(status[0].runs, 2);
    assert_eq!(status[0].last_error.as_deref(), Some("run timed out after 2s"));
    // A timed-out run is a failed run, not a failed service: the host shuts down cleanly.
    run.await.unwrap().unwrap();
    assert_eq!(rec.times("run"), [secs(0), secs(10)]);
    assert_eq!(rec.times("run token cancelled"), [secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn failed_runs_are_counted_and_the_schedule_goes_on() {
    let job = |_: Context, tick: Tick| async move {
        if tick.run() % 2 == 1 {
            Err(std::io::Error::other(format!("run {} failed", tick.run())))
        } else {
            Ok(())
        }
    };
    let host = builder()
        .service(Service::periodic("flaky", Schedule::every(secs(1)), job))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, ms(4500));
    let run = tokio::spawn(host.run());
    tokio::time::sleep(ms(4200)).await;
    let s = &handle.status()[0];
    assert_eq!((s.runs, s.failures), (5, 3));
    assert_eq!(s.last_error.as_deref(), Some("run 5 failed"));
    run.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn max_failures_consecutive_failed_runs_fail_the_service() {
    let rec = Recorder::new();
    let r = rec.clone();
    // Fails on runs 2, 4, 5, 6: the streak of three ends the service at run 6.
    let job = move |_: Context, tick: Tick| {
        r.record("run");
        async move {
            if matches!(tick.run(), 2 | 4..) {
                Err("upstream down")
            } else {
                Ok(())
            }
        }
    };
    let schedule = Schedule::every(secs(1)).max_failures(3);
    let err = builder()
        .service(Service::periodic("sync", schedule, job))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    assert_eq!(rec.times("run").len(), 6);
    assert_eq!(rec.elapsed(), secs(5));
    assert_eq!(err.to_string(), "1 service failed: `sync`: upstream down");
}

#[tokio::test(start_paused = true)]
async fn no_run_starts_once_shutdown_has_begun() {
    let started_cancelled = Arc::new(AtomicU64::new(0));
    let runs = Arc::new(AtomicU64::new(0));
    let (sc, r) = (started_cancelled.clone(), runs.clone());
    // A burst backlog is pending when the stop arrives: none of it may run.
    let job = move |ctx: Context, tick: Tick| {
        r.fetch_add(1, Ordering::SeqCst);
        if ctx.is_cancelled() {
            sc.fetch_add(1, Ordering::SeqCst);
        }
        async move {
            if tick.run() == 1 {
                tokio::time::sleep(secs(35)).await;
            }
        }
    };
    let schedule = Schedule::every(secs(10)).missed_ticks(MissedTicks::Burst);
    let host = builder()
        .service(Service::periodic("backlog", schedule, job))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(20));
    host.run().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(started_cancelled.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stop_at_the_instant_a_run_is_due_never_starts_it_cancelled() {
    let cancelled_at_start = Arc::new(AtomicU64::new(0));
    let c = cancelled_at_start.clone();
    let job = move |ctx: Context, _tick: Tick| {
        if ctx.is_cancelled() {
            c.fetch_add(1, Ordering::SeqCst);
        }
        async {}
    };
    for stop_at in [secs(10), secs(20), secs(30)] {
        let host = builder()
            .service(Service::periodic("j", Schedule::every(secs(10)), job.clone()))
            .build()
            .unwrap();
        stop_after(&host.handle(), stop_at);
        host.run().await.unwrap();
    }
    assert_eq!(cancelled_at_start.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failing_periodic_service_is_restarted_under_restart() {
    let rec = Recorder::new();
    let r = rec.clone();
    let job = move |_: Context, _: Tick| {
        r.record("run");
        async { Err::<(), _>("always") }
    };
    let schedule = Schedule::every(secs(10)).max_failures(1);
    let policy = FailurePolicy::Restart(host::Restart::new().initial(secs(1)).intensity(2, secs(60)));
    let err = builder()
        .service(Service::periodic("p", schedule, job).on_failure(policy))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap_err();
    // Fails at 0; restarts after 1 s and 2 s, each restart running at once; the third failure
    // exceeds 2 restarts in 60 s.
    assert_eq!(rec.times("run"), [secs(0), secs(1), secs(3)]);
    assert!(matches!(err, Error::ServiceFailed { .. }));
}

#[tokio::test(start_paused = true)]
async fn one_hundred_thousand_periodic_services_run_on_one_runtime() {
    const N: usize = 100_000;
    let runs = Arc::new(AtomicU64::new(0));
    let late = Arc::new(AtomicU64::new(0));
    let services = (0..N).map(|i| {
        let (runs, late) = (runs.clone(), late.clone());
        let job = move |_: Context, tick: Tick| {
            runs.fetch_add(1, Ordering::Relaxed);
            if tick.lateness() > Duration::ZERO {
                late.fetch_add(1, Ordering::Relaxed);
            }
            async {}
        };
        Service::periodic(format!("job-{i}"), Schedule::every(secs(60)), job)
    });
    let host = builder().services(services).build().unwrap();
    stop_after(&host.handle(), secs(150));
    let report = host.run().await.unwrap();
    // Runs at 0, 60 and 120 s: exactly three each, none lost, none doubled, none late.
    assert_eq!(runs.load(Ordering::Relaxed), 3 * N as u64);
    assert_eq!(late.load(Ordering::Relaxed), 0);
    assert_eq!(report.services.len(), N);
    assert!(report.is_clean());
}

#[tokio::test(start_paused = true)]
async fn stop_cancels_every_service_before_it_returns() {
    let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
    let services = (0..3).map(|i| {
        let tokens = tokens.clone();
        let job = move |ctx: Context, tick: Tick| {
            if tick.run() == 1 {
                tokens.lock().unwrap().push(ctx.token().clone());
            }
            async {}
        };
        Service::periodic(format!("job-{i}"), Schedule::every(ms(1)), job)
    });
    let host = builder().services(services).build().unwrap();
    let handle = host.handle();
    let run = tokio::spawn(host.run());
    handle.wait_for(host::Phase::Started).await;
    tokio::time::sleep(ms(5)).await;
    let tokens = tokens.lock().unwrap().clone();
    assert_eq!(tokens.len(), 3);
    assert!(tokens.iter().all(|t| !t.is_cancelled()));
    handle.stop();
    // Synchronously: the host's task has not run yet, and no service can start another run.
    assert!(tokens.iter().all(|t| t.is_cancelled()));
    run.await.unwrap().unwrap();
}

/// A periodic service waiting between runs stops at once when the host stops: nothing waits for
/// its next tick (an hour away) or for the shutdown's deadline.
#[tokio::test(start_paused = true)]
async fn a_service_waiting_for_its_next_run_stops_at_once() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::periodic(
            "hourly",
            Schedule::every(secs(3600)),
            recording_job(&rec, |_| Duration::ZERO),
        ))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    let report = host.run().await.unwrap();
    assert_eq!(report.services[0].outcome, host::Outcome::Stopped);
    assert_eq!(report.shutdown, Duration::ZERO);
    assert_eq!(rec.times("run"), [Duration::ZERO]);
    assert_eq!(rec.elapsed(), secs(1));
}

/// A service's token cancelled by hand (not a host stop) still ends the periodic loop: no run
/// starts after it (it is seen when the next run falls due).
#[tokio::test(start_paused = true)]
async fn a_token_cancelled_by_hand_starts_no_further_run() {
    let rec = Recorder::new();
    let runs = rec.clone();
    let job = move |ctx: Context, tick: Tick| {
        let rec = runs.clone();
        async move {
            rec.record("run");
            if tick.run() == 2 {
                ctx.token().cancel();
            }
        }
    };
    let host = builder()
        .service(Service::periodic("ticker", Schedule::every(secs(10)), job))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(60));
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("run"), [secs(0), secs(10)]);
    assert!(report.is_clean());
}

/// A token is the service's own: one service cancelling its token by hand stops neither another
/// periodic service nor a hosted service waiting on its own token.
#[tokio::test(start_paused = true)]
async fn a_token_cancelled_by_hand_stops_only_its_service() {
    let rec = Recorder::new();
    let runs = rec.clone();
    let quitter = move |ctx: Context, tick: Tick| {
        let rec = runs.clone();
        async move {
            rec.record("quitter");
            if tick.run() == 2 {
                ctx.token().cancel();
            }
        }
    };
    struct Waiter(Recorder);
    impl host::HostedService for Waiter {
        async fn run(&mut self, ctx: &Context) -> Result<(), host::BoxError> {
            ctx.cancelled().await;
            self.0.record("waiter cancelled");
            Ok(())
        }
    }
    let host = builder()
        .service(Service::periodic("quitter", Schedule::every(secs(10)), quitter))
        .service(Service::periodic(
            "ticker",
            Schedule::every(secs(10)),
            recording_job(&rec, |_| Duration::ZERO),
        ))
        .service(Service::hosted("waiter", Waiter(rec.clone())))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(35));
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("quitter"), [secs(0), secs(10)]);
    assert_eq!(rec.times("run"), [secs(0), secs(10), secs(20), secs(30)]);
    assert_eq!(rec.times("waiter cancelled"), [secs(35)]);
    assert!(report.is_clean());
}

/// A service's token is made when it first asks for it: one made after the stop began is
/// cancelled already.
#[tokio::test(start_paused = true)]
async fn a_token_first_asked_for_after_the_stop_is_cancelled() {
    struct Late(Recorder);
    impl host::HostedService for Late {
        // Without hooks: nothing in the host asks for the token at start.
        const HOOKS: bool = false;

        async fn run(&mut self, ctx: &Context) -> Result<(), host::BoxError> {
            tokio::time::sleep(secs(5)).await;
            if ctx.token().is_cancelled() {
                ctx.cancelled().await;
                self.0.record("saw the stop");
            }
            Ok(())
        }
    }
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("late", Late(rec.clone())))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("saw the stop"), [secs(5)]);
    assert!(report.is_clean());
}

/// A hosted service waits for its stop without a token until it asks for one: a body already
/// waiting on `ctx.cancelled()` when the token is first made (and then cancelled by hand) sees that
/// cancellation at once, not only at the host's stop.
#[tokio::test(start_paused = true)]
async fn a_wait_begun_before_the_token_was_made_sees_it_cancelled_by_hand() {
    struct Quits(Recorder);
    impl host::HostedService for Quits {
        async fn run(&mut self, ctx: &Context) -> Result<(), host::BoxError> {
            let cancel_later = async {
                tokio::time::sleep(secs(3)).await;
                ctx.token().cancel();
                std::future::pending::<()>().await
            };
            // The wait is polled first: it began before the token existed.
            tokio::select! {
                biased;
                () = ctx.cancelled() => self.0.record("cancelled"),
                () = cancel_later => {}
            }
            Ok(())
        }
    }
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("quits", Quits(rec.clone())))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(10));
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("cancelled"), [secs(3)]);
    assert!(report.is_clean());
}

/// Several waits in one hosted service (its body's and those of tasks it spawned with a clone of
/// its context) all see the stop, whichever of them holds the service's waker slot.
#[tokio::test(start_paused = true)]
async fn every_wait_of_a_hosted_service_sees_the_stop() {
    struct Many(Recorder);
    impl host::HostedService for Many {
        const HOOKS: bool = false;

        async fn run(&mut self, ctx: &Context) -> Result<(), host::BoxError> {
            let waits: Vec<_> = (0..3)
                .map(|_| {
                    let (ctx, rec) = (ctx.clone(), self.0.clone());
                    tokio::spawn(async move {
                        ctx.cancelled().await;
                        rec.record("task saw the stop");
                    })
                })
                .collect();
            // A wait given up before the stop leaves the slot to the others.
            let _ = tokio::time::timeout(secs(1), ctx.cancelled()).await;
            ctx.cancelled().await;
            self.0.record("body saw the stop");
            for wait in waits {
                wait.await?;
            }
            Ok(())
        }
    }
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("many", Many(rec.clone())))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(5));
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("task saw the stop"), [secs(5); 3]);
    assert_eq!(rec.times("body saw the stop"), [secs(5)]);
    assert!(report.is_clean());
}

/// A periodic service's loop keeps its waker in the stop's slot between runs: a job that first asks
/// for its token mid-life (which wakes a hosted service's waiting `cancelled()`) leaves it there,
/// and the stop still ends the wait that follows at once, not at the next tick.
#[tokio::test(start_paused = true)]
async fn a_periodic_job_asking_for_its_token_is_still_stopped_at_once() {
    let rec = Recorder::new();
    let runs = rec.clone();
    let job = move |ctx: Context, tick: Tick| {
        let rec = runs.clone();
        async move {
            if tick.run() == 2 {
                assert!(!ctx.token().is_cancelled());
            }
            rec.record("run");
        }
    };
    let host = builder()
        .service(Service::periodic("asks", Schedule::every(secs(10)), job))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(15));
    let started = tokio::time::Instant::now();
    let report = host.run().await.unwrap();
    assert_eq!(rec.times("run"), [secs(0), secs(10)]);
    assert_eq!(started.elapsed(), secs(15), "the stop waited for the next tick");
    assert!(report.is_clean());
}

/// A periodic job's runs wait on the service's token through one spare wait that each run hands
/// on to the next (so that none allocates): a wait given up at the end of every run leaves nothing
/// behind, and the wait of the run under way when the host stops, or when the token is cancelled
/// by hand, ends at once.
#[tokio::test(start_paused = true)]
async fn the_wait_a_periodic_run_hands_on_still_sees_the_stop_at_once() {
    for by_hand in [false, true] {
        let rec = Recorder::new();
        let runs = rec.clone();
        let job = move |ctx: Context, tick: Tick| {
            let rec = runs.clone();
            async move {
                if by_hand && tick.run() == 10 {
                    let token = ctx.token().clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(ms(250)).await;
                        token.cancel();
                    });
                }
                tokio::select! {
                    () = ctx.cancelled() => rec.record("stopped"),
                    () = tokio::time::sleep(ms(500)) => rec.record("ran"),
                }
            }
        };
        let host = builder()
            .service(Service::periodic("waits", Schedule::every(secs(1)), job))
            .build()
            .unwrap();
        stop_after(&host.handle(), ms(if by_hand { 20_000 } else { 9_250 }));
        let report = host.run().await.unwrap();
        assert_eq!(rec.times("ran").len(), 9, "by hand: {by_hand}");
        assert_eq!(rec.times("stopped"), [ms(9_250)], "by hand: {by_hand}");
        assert!(report.is_clean());
    }
}
