//! No panic escapes, no service dies silently, no user duration panics, a restart is a fresh
//! start, and misconfigured runtimes and names fail with an error that says the fix.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use common::{Recorder, builder, ms, secs, stop_after};
use host::{
    BoxError, Context, Error, FailurePolicy, HostedService, Job, Outcome, Restart, Schedule, Service, State, Tick,
};

/// Panics when dropped.
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("{} panicked in Drop", self.0);
    }
}

/// Records its stop hook.
struct Recorded(Recorder);

impl HostedService for Recorded {
    async fn stop(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.0.record(format!("stop {}", ctx.name()));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_services_drop_is_its_failure_and_the_earlier_stop_hooks_still_run() {
    struct Exploding(#[allow(dead_code)] PanicsOnDrop);
    impl HostedService for Exploding {}

    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("1-pool", Recorded(rec.clone())))
        .service(Service::hosted(
            "2-exploding",
            Exploding(PanicsOnDrop("the pool client")),
        ))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    let err = host.run().await.unwrap_err();
    let Error::ServiceFailed { failures, report } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].service, "2-exploding");
    assert_eq!(
        failures[0].failure.to_string(),
        "panicked: the pool client panicked in Drop"
    );
    assert_eq!(rec.times("stop 1-pool"), [secs(1)]);
    let outcomes: Vec<_> = report.services.iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes, [Outcome::Stopped, Outcome::Failed]);
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_drop_of_a_timed_out_run_is_caught_and_the_schedule_goes_on() {
    let job = |_ctx: Context, _tick: Tick| async {
        let _guard = PanicsOnDrop("the run");
        tokio::time::sleep(secs(10)).await;
    };
    let host = builder()
        .service(Service::periodic(
            "slow",
            Schedule::every(secs(5)).timeout(secs(1)),
            job,
        ))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, ms(10_500));
    let status = tokio::spawn({
        let handle = handle.clone();
        async move {
            tokio::time::sleep(ms(10_400)).await;
            handle.status()
        }
    });
    let report = host.run().await.unwrap();
    let status = status.await.unwrap();
    // Runs at 0, 5 and 10 s, each timed out after 1 s (the third is cut by the stop).
    assert_eq!(status[0].runs, 3);
    assert_eq!(status[0].failures, 2);
    assert_eq!(status[0].last_error.as_deref(), Some("run timed out after 1s"));
    assert!(report.is_clean());
    // The third run ignores the stop at 10.5 s too, and times out at 11 s.
    assert_eq!(report.services[0].failed_runs, 3);
    assert_eq!(report.shutdown, ms(500));
}

/// A job whose `run` panics before it even returns a future (a hand-written `Job`).
struct EagerPanic(Arc<AtomicU32>);

impl Job for EagerPanic {
    #[allow(unreachable_code)]
    fn run(&mut self, _ctx: &Context, _tick: Tick) -> impl Future<Output = Result<(), BoxError>> + Send {
        self.0.fetch_add(1, SeqCst);
        panic!("no future for you");
        async { Ok(()) }
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_while_making_a_runs_future_is_a_failed_run_not_a_dead_service() {
    let calls = Arc::new(AtomicU32::new(0));
    let host = builder()
        .service(Service::periodic(
            "eager",
            Schedule::every(secs(1)).max_failures(3),
            EagerPanic(calls.clone()),
        ))
        .build()
        .unwrap();
    let err = host.run().await.unwrap_err();
    // Three failed runs at 0, 1 and 2 s, then `max_failures` applies the default policy.
    assert_eq!(calls.load(SeqCst), 3);
    let Error::ServiceFailed { failures, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures[0].failure.to_string(), "panicked: no future for you");
}

/// A hosted service whose `stop` panics before returning a future.
struct EagerStop;

impl HostedService for EagerStop {
    #[allow(unreachable_code)]
    fn stop(&mut self, _ctx: &Context) -> impl Future<Output = Result<(), BoxError>> + Send {
        panic!("stop exploded");
        async { Ok(()) }
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_making_a_hook_is_that_services_failure_and_the_rest_stop_cleanly() {
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("1-pool", Recorded(rec.clone())))
        .service(Service::hosted("2-eager", EagerStop))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    let err = host.run().await.unwrap_err();
    let Error::ServiceFailed { failures, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures[0].service, "2-eager");
    assert_eq!(failures[0].failure.to_string(), "panicked: stop exploded");
    assert_eq!(rec.times("stop 1-pool"), [secs(1)]);
}

#[tokio::test(start_paused = true)]
async fn a_max_shutdown_timeout_means_no_limit() {
    struct SlowDrain;
    impl HostedService for SlowDrain {
        async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
            ctx.cancelled().await;
            tokio::time::sleep(Duration::from_secs(100 * 24 * 3600)).await;
            Ok(())
        }
    }
    let host = builder()
        .shutdown_timeout(Duration::MAX)
        .service(Service::hosted("slow", SlowDrain))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(1));
    let report = host.run().await.unwrap();
    assert!(report.is_clean());
    assert_eq!(report.shutdown, Duration::from_secs(100 * 24 * 3600));
}

#[tokio::test(start_paused = true)]
async fn huge_periods_delays_and_back_offs_wait_instead_of_panicking() {
    let runs = Arc::new(AtomicU32::new(0));
    let counted = |runs: &Arc<AtomicU32>| {
        let runs = runs.clone();
        move |_: Context, _: Tick| {
            runs.fetch_add(1, SeqCst);
            async {}
        }
    };
    struct Fails;
    impl HostedService for Fails {
        async fn run(&mut self, _ctx: &Context) -> Result<(), BoxError> {
            Err("down".into())
        }
    }
    let forever = Restart::new().initial(Duration::MAX).max(Duration::MAX).factor(1e300);
    let host = builder()
        .service(Service::periodic(
            "every-max",
            Schedule::every(Duration::MAX),
            counted(&runs),
        ))
        .service(Service::periodic(
            "delay-max",
            Schedule::every(secs(1)).initial_delay(Duration::MAX),
            counted(&runs),
        ))
        .service(Service::periodic(
            "fixed-delay-max",
            Schedule::fixed_delay(Duration::MAX).jitter(Duration::from_secs(u64::MAX / 2)),
            counted(&runs),
        ))
        .service(Service::hosted("restart-max", Fails).on_failure(FailurePolicy::Restart(forever)))
        .build()
        .unwrap();
    let handle = host.handle();
    stop_after(&handle, secs(3600));
    let status = tokio::spawn({
        let handle = handle.clone();
        async move {
            tokio::time::sleep(secs(60)).await;
            handle.status()
        }
    });
    let report = host.run().await.unwrap();
    // One run at start for `every`; none for the huge initial delay or the huge jitter.
    assert_eq!(runs.load(SeqCst), 1);
    assert!(report.is_clean(), "{report:?}");
    let status = status.await.unwrap();
    let restarting = status.iter().find(|s| s.name == "restart-max").unwrap();
    assert_eq!(restarting.state, State::Restarting);
    assert!(restarting.next_run.is_some());
}

#[test]
fn periods_and_timeouts_below_one_millisecond_are_rejected_with_the_macros_wording() {
    let job = |_: Context, _: Tick| async {};
    for (schedule, what) in [
        (Schedule::every(Duration::from_micros(500)), "every"),
        (Schedule::fixed_delay(Duration::from_micros(1)), "fixed_delay"),
        (Schedule::every(secs(1)).timeout(Duration::from_micros(10)), "timeout"),
    ] {
        let err = builder()
            .service(Service::periodic("p", schedule, job))
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&format!("`{what}`")), "{text}");
        assert!(
            text.contains("is below 1 ms, the resolution of tokio's timer"),
            "{text}"
        );
        assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
    }
}

/// A connection made in `start`; a failed body leaves it broken.
struct Conn {
    rec: Recorder,
    id: u32,
    connected: bool,
}

impl HostedService for Conn {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        self.rec.record(format!("start {}", self.id));
        self.connected = true;
        Ok(())
    }

    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if !self.connected {
            self.rec.record(format!("run {} without a connection", self.id));
            return Err("not connected".into());
        }
        self.rec.record(format!("run {}", self.id));
        tokio::time::sleep(secs(1)).await;
        if self.id == 1 {
            // The connection breaks; this value is unusable from now on.
            self.connected = false;
            return Err("connection reset".into());
        }
        ctx.cancelled().await;
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        self.rec.record(format!("stop {}", self.id));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_is_a_fresh_start_with_a_fresh_value_from_the_constructor() {
    let rec = Recorder::new();
    let made = Arc::new(AtomicU32::new(0));
    let constructor = {
        let (rec, made) = (rec.clone(), made.clone());
        move || Conn {
            rec: rec.clone(),
            id: made.fetch_add(1, SeqCst) + 1,
            connected: false,
        }
    };
    let restart = Restart::new().initial(secs(2));
    let host = builder()
        .service(Service::hosted_with("db", constructor).on_failure(FailurePolicy::Restart(restart)))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(10));
    host.run().await.unwrap();
    assert_eq!(made.load(SeqCst), 2);
    assert_eq!(
        rec.events(),
        [
            ("start 1".to_owned(), secs(0)),
            ("run 1".to_owned(), secs(0)),
            // Failed at 1 s; after the 2 s back-off: the failed value's stop hook, a fresh value,
            // its start hook, its body.
            ("stop 1".to_owned(), secs(3)),
            ("start 2".to_owned(), secs(3)),
            ("run 2".to_owned(), secs(3)),
            ("stop 2".to_owned(), secs(10)),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_restart_of_a_value_without_a_constructor_runs_its_start_hook_again() {
    let rec = Recorder::new();
    let conn = Conn {
        rec: rec.clone(),
        id: 1,
        connected: false,
    };
    let host = builder()
        .service(Service::hosted("db", conn).on_failure(FailurePolicy::Restart(Restart::new().initial(secs(2)))))
        .build()
        .unwrap();
    stop_after(&host.handle(), secs(10));
    host.run().await.unwrap();
    // The same value, reconnected by its start hook: it runs again instead of failing forever
    // (back-offs of 2 and 4 s after the failures at 1 and 4 s).
    assert_eq!(rec.times("start 1"), [secs(0), secs(3), secs(8)]);
    assert_eq!(rec.times("run 1 without a connection"), Vec::<Duration>::new());
}

#[test]
fn run_outside_a_tokio_runtime_is_an_error_that_says_the_fix() {
    let host = builder().allow_empty(true).build().unwrap();
    let mut run = std::pin::pin!(host.run());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let std::task::Poll::Ready(Err(err)) = run.as_mut().poll(&mut cx) else {
        panic!("expected an error at the first poll")
    };
    assert!(matches!(err, Error::NoRuntime), "{err}");
    assert!(err.to_string().contains("#[tokio::main]"), "{err}");
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
}

#[test]
fn a_runtime_without_its_time_driver_is_an_error_that_says_the_fix() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let job = |_: Context, _: Tick| async {};
    let err = rt
        .block_on(async {
            builder()
                .service(Service::periodic("p", Schedule::every(secs(1)), job))
                .build()
                .unwrap()
                .run()
                .await
        })
        .unwrap_err();
    assert!(matches!(err, Error::NoTimeDriver), "{err}");
    assert!(err.to_string().contains("enable_all()"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_run_future_cancels_every_service() {
    struct UntilCancelled(Recorder);
    impl HostedService for UntilCancelled {
        async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
            ctx.cancelled().await;
            self.0.record("cancelled");
            Ok(())
        }
    }
    let rec = Recorder::new();
    let host = builder()
        .service(Service::hosted("s", UntilCancelled(rec.clone())))
        .build()
        .unwrap();
    let handle = host.handle();
    let running = tokio::spawn(host.run());
    handle.wait_for(host::Phase::Started).await;
    tokio::time::sleep(secs(5)).await;
    running.abort();
    let _ = running.await;
    tokio::time::sleep(ms(1)).await;
    assert_eq!(rec.times("cancelled"), [secs(5)]);
    assert!(handle.is_stop_requested());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_blocks_past_its_timeout_counts_as_timed_out() {
    let job = |ctx: Context, _: Tick| async move {
        // A synchronous call that overruns the 50 ms timeout without ever yielding.
        std::thread::sleep(Duration::from_millis(150));
        ctx.host().stop();
    };
    let host = builder()
        .service(Service::periodic(
            "blocking",
            Schedule::every(secs(60)).timeout(ms(50)),
            job,
        ))
        .build()
        .unwrap();
    let report = host.run().await.unwrap();
    assert_eq!(report.services[0].failed_runs, 1);
}

#[test]
fn empty_or_blank_names_and_an_empty_only_are_configuration_errors() {
    let job = |_: Context, _: Tick| async {};
    for name in ["", "   "] {
        let err = builder()
            .service(Service::periodic(name, Schedule::every(secs(1)), job))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidName { .. }), "{err}");
        assert!(err.to_string().contains("empty or blank name"), "{err}");
        assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
    }
    let err = builder()
        .service(Service::periodic("a", Schedule::every(secs(1)), job))
        .only(Vec::<String>::new())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::EmptySelection), "{err}");
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
}

#[test]
fn a_host_with_no_service_is_an_error_that_names_the_library_crate_fix() {
    let err = builder().build().unwrap_err();
    assert!(matches!(err, Error::NoServices), "{err}");
    assert!(err.to_string().contains("`use my_lib as _;`"), "{err}");
    assert!(err.to_string().contains("allow_empty(true)"), "{err}");
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
    assert!(builder().allow_empty(true).build().is_ok());
}
