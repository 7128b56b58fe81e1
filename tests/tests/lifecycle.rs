//! The host's lifecycle under tokio's paused clock: start order, stop order, the shutdown bound,
//! failure policies, panic isolation, start failures, discovery errors and the handle.

mod common;

use std::time::Duration;

use common::{Recorder, builder, ms, secs, stop_after};
use host::{BoxError, Context, Error, FailurePolicy, HostedService, Outcome, Phase, Schedule, Service, StopReason};

/// What a probe's body does.
#[derive(Clone, Copy)]
enum Body {
    UntilCancelled,
    IgnoresCancellation,
    FailsAfter(Duration),
    PanicsAfter(Duration),
}

/// A hosted service that records every hook into a [`Recorder`].
struct Probe {
    rec: Recorder,
    start_takes: Duration,
    start_fails: bool,
    body: Body,
    stop_hangs: bool,
}

fn probe(rec: &Recorder) -> Probe {
    Probe {
        rec: rec.clone(),
        start_takes: Duration::ZERO,
        start_fails: false,
        body: Body::UntilCancelled,
        stop_hangs: false,
    }
}

impl HostedService for Probe {
    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.rec.record(format!("start {}", ctx.name()));
        tokio::time::sleep(self.start_takes).await;
        if self.start_fails {
            return Err("database unreachable".into());
        }
        Ok(())
    }

    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.rec.record(format!("run {}", ctx.name()));
        match self.body {
            Body::UntilCancelled => ctx.cancelled().await,
            Body::IgnoresCancellation => loop {
                tokio::time::sleep(secs(1)).await;
            },
            Body::FailsAfter(d) => {
                tokio::time::sleep(d).await;
                self.rec.record(format!("fail {}", ctx.name()));
                return Err("queue closed".into());
            }
            Body::PanicsAfter(d) => {
                tokio::time::sleep(d).await;
                panic!("boom in {}", ctx.name());
            }
        }
        self.rec.record(format!("end {}", ctx.name()));
        Ok(())
    }

    async fn stop(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.rec.record(format!("stop {}", ctx.name()));
        if self.stop_hangs {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn starts_by_order_then_name_and_stops_in_reverse() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("b", probe(&rec)))
        .service(Service::hosted("a", probe(&rec)))
        .service(Service::hosted("late", probe(&rec)).order(5))
        .service(Service::hosted("early", probe(&rec)).order(-1))
        .build()
        .unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), ["early", "a", "b", "late"]);
    stop_after(&host.handle(), secs(1));
    let report = host.run().await.unwrap();

    let starts: Vec<_> = rec.names().into_iter().filter(|n| n.starts_with("start")).collect();
    assert_eq!(starts, ["start early", "start a", "start b", "start late"]);
    let stops: Vec<_> = rec.names().into_iter().filter(|n| n.starts_with("stop")).collect();
    assert_eq!(stops, ["stop late", "stop b", "stop a", "stop early"]);
    assert!(report.is_clean());
    assert_eq!(report.reason, StopReason::Requested);
    // Every body ended before any stop hook ran.
    let names = rec.names();
    let last_end = names.iter().rposition(|n| n.starts_with("end")).unwrap();
    let first_stop = names.iter().position(|n| n.starts_with("stop")).unwrap();
    assert!(last_end < first_stop, "{names:?}");
}

/// A host large enough for the builder's radix sort, given its services out of order: the start
/// hooks, the stop hooks and the report all follow (order, name), and the bodies end in reverse.
#[tokio::test(start_paused = true)]
async fn a_large_host_starts_by_order_then_name_and_stops_in_reverse() {
    let rec = Recorder::new();
    let services: Vec<(i32, String)> = (0..3000)
        .map(|i| ([0, -1, 2][i % 3], format!("my_app::jobs::job-{}", (i * 7919) % 3001)))
        .collect();
    let host = builder()
        .services(
            services
                .iter()
                .map(|(order, name)| Service::hosted(name.clone(), probe(&rec)).order(*order)),
        )
        .build()
        .unwrap();
    let mut expected = services;
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, name)| name).collect();
    assert_eq!(host.service_names().collect::<Vec<_>>(), expected);
    stop_after(&host.handle(), secs(1));
    let report = host.run().await.unwrap();

    let hooks = |hook: &str| -> Vec<String> {
        rec.names()
            .into_iter()
            .filter_map(|n| n.strip_prefix(hook).map(str::to_owned))
            .collect()
    };
    assert_eq!(hooks("start "), expected);
    let mut reversed = expected.clone();
    reversed.reverse();
    // The stop wakes the bodies in reverse start order, the order the shutdown awaits them in.
    assert_eq!(hooks("end "), reversed);
    assert_eq!(hooks("stop "), reversed);
    let reported: Vec<&str> = report.services.iter().map(|s| &*s.name).collect();
    assert_eq!(reported, expected);
}

#[tokio::test(start_paused = true)]
async fn start_hooks_run_in_sequence_and_bodies_do_not_delay_later_starts() {
    let rec = Recorder::new();
    let slow = Probe {
        start_takes: secs(3),
        ..probe(&rec)
    };
    let host = builder()
        .service(Service::hosted("1-forever", probe(&rec)))
        .service(Service::hosted("2-slow-start", slow))
        .service(Service::hosted("3-next", probe(&rec)))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    host.run().await.unwrap();

    // The first body runs forever, yet the second service starts at once; the third waits for
    // the second's 3 s start hook, and only then does its body run.
    assert_eq!(rec.times("start 1-forever"), [secs(0)]);
    assert_eq!(rec.times("run 1-forever"), [secs(0)]);
    assert_eq!(rec.times("start 2-slow-start"), [secs(0)]);
    assert_eq!(rec.times("run 2-slow-start"), [secs(3)]);
    assert_eq!(rec.times("start 3-next"), [secs(3)]);
    assert_eq!(rec.times("stop 1-forever"), [secs(4)]);
}

#[tokio::test(start_paused = true)]
async fn a_straggler_is_aborted_at_three_quarters_of_the_timeout_and_starves_no_stop_hook() {
    let rec = Recorder::new();
    let stubborn = Probe {
        body: Body::IgnoresCancellation,
        ..probe(&rec)
    };
    let host = builder()
        .shutdown_timeout(secs(4))
        .service(Service::hosted("1-pool", probe(&rec)))
        .service(Service::hosted("2-stubborn", stubborn))
        .service(Service::hosted("3-api", probe(&rec)))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(10));
    let err = host.run().await.unwrap_err();

    // Stop requested at 10 s; the straggler is aborted at ¾ of the 4 s timeout, and the pool it
    // may have been using is stopped right after it, within the reserved last quarter.
    assert_eq!(rec.elapsed(), secs(13));
    let Error::ShutdownTimeout {
        timeout,
        stragglers,
        report,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*timeout, secs(4));
    assert_eq!(report.shutdown, secs(3));
    assert_eq!(rec.times("stop 3-api"), [secs(10)]);
    assert_eq!(rec.times("stop 2-stubborn"), Vec::<Duration>::new());
    assert_eq!(rec.times("end 1-pool"), [secs(10)]);
    assert_eq!(rec.times("stop 1-pool"), [secs(13)]);
    // Only the guilty is named.
    assert_eq!(stragglers, &["2-stubborn"]);
    let outcomes: Vec<_> = report.services.iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes, [Outcome::Stopped, Outcome::Aborted, Outcome::Stopped]);
    assert_eq!(err.exit_code(), std::process::ExitCode::from(3));
    assert_eq!(err.to_string(), "shutdown timed out after 4s; aborted: 2-stubborn");
}

#[tokio::test(start_paused = true)]
async fn a_stop_hook_that_never_returns_is_aborted_and_the_earlier_hooks_still_run() {
    let rec = Recorder::new();
    let hangs = Probe {
        stop_hangs: true,
        ..probe(&rec)
    };
    let host = builder()
        .shutdown_timeout(secs(2))
        .service(Service::hosted("first", probe(&rec)))
        .service(Service::hosted("hangs", hangs))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    let err = host.run().await.unwrap_err();
    // `hangs` runs its hook at once and is aborted at ¾ of the timeout; `first`'s hook then runs.
    assert_eq!(rec.elapsed(), ms(2500));
    let Error::ShutdownTimeout { stragglers, report, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(stragglers, &["hangs"]);
    assert_eq!(rec.times("stop hangs"), [secs(1)]);
    assert_eq!(rec.times("stop first"), [ms(2500)]);
    assert_eq!(report.with_outcome(Outcome::Stopped).collect::<Vec<_>>(), ["first"]);
}

#[tokio::test(start_paused = true)]
async fn a_hook_overrunning_the_reserve_is_aborted_at_the_timeout_and_the_rest_are_skipped() {
    let rec = Recorder::new();
    let stubborn = Probe {
        body: Body::IgnoresCancellation,
        ..probe(&rec)
    };
    let hangs = Probe {
        stop_hangs: true,
        ..probe(&rec)
    };
    let host = builder()
        .shutdown_timeout(secs(4))
        .service(Service::hosted("1-skipped", probe(&rec)))
        .service(Service::hosted("2-hangs", hangs))
        .service(Service::hosted("3-stubborn", stubborn))
        .build()
        .unwrap();
    stop_after(&host.handle(), Duration::ZERO);
    let err = host.run().await.unwrap_err();
    assert_eq!(rec.elapsed(), secs(4));
    let Error::ShutdownTimeout { stragglers, report, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(stragglers, &["2-hangs", "3-stubborn"]);
    let outcomes: Vec<_> = report.services.iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes, [Outcome::HookSkipped, Outcome::Aborted, Outcome::Aborted]);
    assert_eq!(rec.times("stop 2-hangs"), [secs(3)]);
    assert_eq!(rec.times("stop 1-skipped"), Vec::<Duration>::new());
}

#[tokio::test(start_paused = true)]
async fn one_straggler_among_ten_thousand_is_the_only_one_named() {
    let mut builder = builder().shutdown_timeout(secs(4));
    for i in 0..10_000 {
        builder = builder.service(Service::periodic(
            format!("job-{i:05}"),
            Schedule::every(secs(1)),
            |_, _| async {},
        ));
    }
    let rec = Recorder::new();
    let stubborn = Probe {
        body: Body::IgnoresCancellation,
        ..probe(&rec)
    };
    let host = builder
        .service(Service::hosted("stubborn", stubborn).order(1))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(2));
    let err = host.run().await.unwrap_err();
    let Error::ShutdownTimeout { stragglers, report, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(stragglers, &["stubborn"]);
    assert_eq!(report.with_outcome(Outcome::Stopped).count(), 10_000);
    assert_eq!(err.to_string(), "shutdown timed out after 4s; aborted: stubborn");
}

#[tokio::test(start_paused = true)]
async fn a_straggler_started_first_is_named_alone_too() {
    let rec = Recorder::new();
    let stubborn = Probe {
        body: Body::IgnoresCancellation,
        ..probe(&rec)
    };
    let host = builder()
        .shutdown_timeout(secs(4))
        .service(Service::hosted("1-stubborn", stubborn))
        .service(Service::hosted("2-quick", probe(&rec)))
        .build()
        .unwrap();
    stop_after(&host.handle(), Duration::ZERO);
    let err = host.run().await.unwrap_err();
    let Error::ShutdownTimeout { stragglers, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(stragglers, &["1-stubborn"]);
    assert_eq!(rec.times("stop 2-quick"), [secs(0)]);
    assert_eq!(rec.elapsed(), secs(3));
}

#[tokio::test(start_paused = true)]
async fn the_default_shutdown_timeout_is_30s() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted(
            "stubborn",
            Probe {
                body: Body::IgnoresCancellation,
                ..probe(&rec)
            },
        ))
        .build()
        .unwrap();
    stop_after(&host.handle(), Duration::ZERO);
    host.run().await.unwrap_err();
    // Bodies get three quarters of it.
    assert_eq!(rec.elapsed(), ms(22_500));
}

#[tokio::test(start_paused = true)]
async fn a_failing_body_stops_the_host_under_stop_host() {
    let rec = Recorder::new();
    let failing = Probe {
        body: Body::FailsAfter(secs(7)),
        ..probe(&rec)
    };
    let host = builder()
        .service(Service::hosted("consumer", failing))
        .service(Service::hosted("mailer", probe(&rec)))
        .build()
        .unwrap();
    let err = host.run().await.unwrap_err();

    assert_eq!(rec.times("fail consumer"), [secs(7)]);
    // The other service was cancelled and stopped gracefully at the same instant.
    assert_eq!(rec.times("end mailer"), [secs(7)]);
    assert_eq!(rec.times("stop mailer"), [secs(7)]);
    let Error::ServiceFailed { failures, report } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].service, "consumer");
    assert_eq!(failures[0].failure.to_string(), "queue closed");
    assert_eq!(report.reason, StopReason::ServiceFailed("consumer".into()));
    assert_eq!(report.with_outcome(Outcome::Failed).collect::<Vec<_>>(), ["consumer"]);
    assert_eq!(report.with_outcome(Outcome::Stopped).collect::<Vec<_>>(), ["mailer"]);
    assert_eq!(err.to_string(), "1 service failed: `consumer`: queue closed");
    assert_eq!(err.exit_code(), std::process::ExitCode::from(1));
}

#[tokio::test(start_paused = true)]
async fn a_failing_body_is_logged_and_left_stopped_under_ignore() {
    let rec = Recorder::new();
    let failing = Probe {
        body: Body::FailsAfter(secs(7)),
        ..probe(&rec)
    };
    let ticks = rec.clone();
    let host = builder()
        .on_failure(FailurePolicy::Ignore)
        .service(Service::hosted("consumer", failing))
        .service(Service::periodic("ticker", Schedule::every(secs(10)), move |_, _| {
            let ticks = ticks.clone();
            async move { ticks.record("tick") }
        }))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, secs(35));
    let report = host.run().await.unwrap();

    assert_eq!(rec.times("fail consumer"), [secs(7)]);
    assert_eq!(rec.times("tick"), [secs(0), secs(10), secs(20), secs(30)]);
    assert_eq!(report.reason, StopReason::Requested);
    assert_eq!(report.with_outcome(Outcome::Failed).collect::<Vec<_>>(), ["consumer"]);
    // A failed service's stop hook still runs at shutdown.
    assert_eq!(rec.times("stop consumer"), [secs(35)]);
}

#[tokio::test(start_paused = true)]
async fn a_panic_is_a_failure_of_that_service_only() {
    let rec = Recorder::new();
    let panics = Probe {
        body: Body::PanicsAfter(secs(5)),
        ..probe(&rec)
    };
    let ticks = rec.clone();
    let host = builder()
        .service(Service::hosted("panicky", panics).on_failure(FailurePolicy::Ignore))
        .service(Service::periodic("ticker", Schedule::every(secs(2)), move |_, _| {
            let ticks = ticks.clone();
            async move { ticks.record("tick") }
        }))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, secs(9));
    let run = tokio::spawn(host.run());
    tokio::time::sleep(secs(7)).await;
    let status = handle.status();
    let panicky = status.iter().find(|s| s.name == "panicky").unwrap();
    assert_eq!(panicky.state, host::State::Failed);
    assert_eq!(panicky.failures, 1);
    assert_eq!(panicky.last_error.as_deref(), Some("panicked: boom in panicky"));
    run.await.unwrap().unwrap();
    // The ticker never missed a beat.
    assert_eq!(rec.times("tick"), [secs(0), secs(2), secs(4), secs(6), secs(8)]);
}

#[tokio::test(start_paused = true)]
async fn a_panic_under_stop_host_fails_the_run_with_the_message() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted(
            "panicky",
            Probe {
                body: Body::PanicsAfter(secs(1)),
                ..probe(&rec)
            },
        ))
        .build()
        .unwrap();
    let err = host.run().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "1 service failed: `panicky`: panicked: boom in panicky"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_start_hook_stops_the_started_services_in_reverse_and_skips_the_rest() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("1-db", probe(&rec)))
        .service(Service::hosted("2-cache", probe(&rec)))
        .service(Service::hosted(
            "3-broken",
            Probe {
                start_fails: true,
                ..probe(&rec)
            },
        ))
        .service(Service::hosted("4-never", probe(&rec)))
        .build()
        .unwrap();
    let err = host.run().await.unwrap_err();

    let Error::StartFailed {
        service,
        source,
        report,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(service, "3-broken");
    assert_eq!(source.to_string(), "database unreachable");
    assert_eq!(report.reason, StopReason::StartFailed("3-broken".into()));
    let outcomes: Vec<_> = report.services.iter().map(|s| (&*s.name, s.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            ("1-db", Outcome::Stopped),
            ("2-cache", Outcome::Stopped),
            ("3-broken", Outcome::Failed),
            ("4-never", Outcome::NotStarted)
        ]
    );
    let names = rec.names();
    let hooks: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with("start") || n.starts_with("stop"))
        .collect();
    assert_eq!(
        hooks,
        [
            "start 1-db",
            "start 2-cache",
            "start 3-broken",
            "stop 2-cache",
            "stop 1-db"
        ]
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::from(1));
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_during_start_up_stops_what_started() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("1-quick", probe(&rec)))
        .service(Service::hosted(
            "2-slow",
            Probe {
                start_takes: secs(60),
                ..probe(&rec)
            },
        ))
        .service(Service::hosted("3-never", probe(&rec)))
        .build()
        .unwrap();
    let handle = host.handle();
    tokio::spawn(async move {
        tokio::time::sleep(secs(1)).await;
        handle.stop();
    });
    let report = host.run().await.unwrap();
    assert_eq!(rec.elapsed(), secs(1));
    assert_eq!(rec.times("stop 1-quick"), [secs(1)]);
    let outcomes: Vec<_> = report.services.iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes, [Outcome::Stopped, Outcome::NotStarted, Outcome::NotStarted]);
}

#[tokio::test(start_paused = true)]
async fn a_service_can_stop_the_host_through_its_context() {
    struct StopsHost;
    impl HostedService for StopsHost {
        async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
            tokio::time::sleep(secs(3)).await;
            ctx.host().stop();
            ctx.cancelled().await;
            Ok(())
        }
    }
    let t0 = tokio::time::Instant::now();
    let report = builder()
        .service(Service::hosted("admin", StopsHost))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(t0.elapsed(), secs(3));
    assert_eq!(report.reason, StopReason::Requested);
}

#[tokio::test(start_paused = true)]
async fn the_context_carries_the_name_and_a_child_token_cancelled_at_shutdown() {
    struct Checks(Recorder);
    impl HostedService for Checks {
        async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
            assert_eq!(ctx.name(), "checker");
            assert!(!ctx.is_cancelled());
            let child = ctx.token().child_token();
            child.cancelled().await;
            self.0.record("child cancelled");
            Ok(())
        }
    }
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("checker", Checks(rec.clone())))
        .build()
        .unwrap();
    stop_after(&host.handle(), ms(1500));
    host.run().await.unwrap();
    assert_eq!(rec.times("child cancelled"), [ms(1500)]);
}

#[tokio::test(start_paused = true)]
async fn the_handle_reports_each_phase_in_order() {
    let rec = Recorder::new();
    let host = builder().service(Service::hosted("s", probe(&rec))).build().unwrap();
    let handle = host.handle();
    assert_eq!(handle.phase(), Phase::Created);
    let (h, r) = (handle.clone(), rec.clone());
    let listener = tokio::spawn(async move {
        for phase in [Phase::Starting, Phase::Started, Phase::Stopping, Phase::Stopped] {
            h.wait_for(phase).await;
            r.record(format!("{phase:?}"));
        }
    });
    stop_after(&handle, secs(2));
    host.run().await.unwrap();
    listener.await.unwrap();
    assert_eq!(handle.phase(), Phase::Stopped);
    let names = rec.names();
    let at = |n: &str| {
        names
            .iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("no {n} in {names:?}"))
    };
    assert!(at("Starting") < at("Started") && at("Started") < at("Stopping") && at("Stopping") < at("Stopped"));
    // `Started` comes after the start hook, `Stopped` after the stop hook.
    assert!(at("start s") < at("Started"), "{names:?}");
    assert!(at("stop s") < at("Stopped"), "{names:?}");
    assert_eq!(rec.times("Started"), [secs(0)]);
    assert_eq!(rec.times("Stopped"), [secs(2)]);
}

#[test]
fn duplicate_names_are_rejected_with_both_locations() {
    let a = Service::hosted("mailer", probe(&Recorder::new()));
    let b = Service::hosted("mailer", probe(&Recorder::new()));
    let (first, second) = (a.location(), b.location());
    assert_eq!(first.file, file!());
    assert_eq!(second.line, first.line + 1);
    let Err(err) = builder().service(a).service(b).build() else {
        panic!("duplicates accepted")
    };
    assert_eq!(
        err.to_string(),
        format!("two services are named `mailer`: one at {first}, one at {second}; give one of them another `name`")
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
}

#[test]
fn selecting_an_unknown_name_lists_the_known_ones() {
    let rec = Recorder::new();
    let build = |b: host::Builder| {
        b.service(Service::hosted("mailer", probe(&rec)))
            .service(Service::hosted("cleaner", probe(&rec)))
            .build()
    };
    let Err(err) = build(builder().only(["mailr"])) else {
        panic!()
    };
    assert_eq!(
        err.to_string(),
        "no service is named `mailr`; known services: cleaner, mailer"
    );
    let Err(err) = build(builder().except(["x"])) else {
        panic!()
    };
    assert!(matches!(err, Error::UnknownService { ref name, .. } if name == "x"));
}

#[test]
fn only_and_except_select_services() {
    let rec = Recorder::new();
    let three = || {
        builder()
            .service(Service::hosted("a", probe(&rec)))
            .service(Service::hosted("b", probe(&rec)))
            .service(Service::hosted("c", probe(&rec)))
    };
    let only = three().only(["c", "a"]).build().unwrap();
    assert_eq!(only.service_names().collect::<Vec<_>>(), ["a", "c"]);
    let except = three().except(["a"]).build().unwrap();
    assert_eq!(except.service_names().collect::<Vec<_>>(), ["b", "c"]);
}

#[test]
fn an_invalid_schedule_is_reported_with_the_service_name() {
    let job = |_: Context, _: host::Tick| async {};
    let Err(err) = builder()
        .service(Service::periodic("zero", Schedule::every(Duration::ZERO), job))
        .build()
    else {
        panic!()
    };
    assert_eq!(
        err.to_string(),
        "service `zero` has an invalid schedule: the period must be greater than zero"
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
    // A filtered-out service is not validated.
    let host = builder()
        .service(Service::periodic("zero", Schedule::every(Duration::ZERO), job))
        .except(["zero"])
        .build();
    assert!(host.is_ok());
}

#[test]
fn a_runtime_without_an_io_driver_still_runs_with_signals_caught() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        let rec = Recorder::new();
        let host = host::Host::builder()
            .discover(false)
            .catch_signals(true)
            .service(Service::hosted("s", probe(&rec)))
            .build()
            .unwrap();
        stop_after(&host.handle(), ms(10));
        host.run().await
    });
    assert!(report.unwrap().is_clean());
}

/// A hosted service whose `HOOKS` is `false`: the host starts the next service without waiting
/// for it, and never calls its `start` or `stop` (here a `start` that would never return).
#[tokio::test(start_paused = true)]
async fn a_service_without_hooks_is_not_waited_for_and_its_hooks_never_run() {
    struct NoHooks(Recorder);
    impl HostedService for NoHooks {
        const HOOKS: bool = false;
        async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
            self.0.record("start");
            std::future::pending().await
        }
        async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
            self.0.record("run");
            ctx.cancelled().await;
            Ok(())
        }
        async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
            self.0.record("stop");
            Ok(())
        }
    }
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("a", NoHooks(rec.clone())))
        .service(Service::hosted("b", probe(&rec)).order(1))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, secs(1));
    let report = host.run().await.unwrap();
    assert!(report.is_clean());
    let events: Vec<String> = rec.events().into_iter().map(|(e, _)| e).collect();
    assert!(!events.iter().any(|e| e == "start" || e == "stop"), "{events:?}");
    assert_eq!(rec.times("run"), [Duration::ZERO]);
    // `b` started although `a` has a start hook that never returns.
    assert_eq!(rec.times("start b"), [Duration::ZERO]);
}

/// During the shutdown a service still running shows as stopping, and one that has ended shows
/// its own final state (stopped), which nothing overwrites.
#[tokio::test(start_paused = true)]
async fn status_during_shutdown_shows_who_is_still_stopping() {
    struct Drains(Duration);
    impl HostedService for Drains {
        const HOOKS: bool = false;
        async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
            ctx.cancelled().await;
            tokio::time::sleep(self.0).await;
            Ok(())
        }
    }
    let host = builder()
        .service(Service::hosted("quick", Drains(Duration::ZERO)))
        .service(Service::hosted("slow", Drains(secs(2))))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, secs(1));
    let watcher = handle.clone();
    let during = tokio::spawn(async move {
        watcher.wait_for(Phase::Stopping).await;
        tokio::time::sleep(secs(1)).await;
        watcher.status()
    });
    let report = host.run().await.unwrap();
    assert!(report.is_clean());
    let during = during.await.unwrap();
    let state = |name: &str| during.iter().find(|s| s.name == name).map(|s| s.state);
    assert_eq!(state("quick"), Some(host::State::Stopped));
    assert_eq!(state("slow"), Some(host::State::Stopping));
}
