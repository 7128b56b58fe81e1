//! The test kit (`host::testing`) as a user would use it: discovered services selected by name,
//! exact advancing, run records, the report, and job functions called directly.

use std::time::Duration;

use host::testing::{TestHost, context, exit_code, tick};
use host::{Context, Host, Schedule, Service, Tick};

/// A discovered job, as in a user's crate.
#[host::periodic(every = "10s", name = "kit-refresh")]
async fn refresh(tick: Tick) -> anyhow::Result<()> {
    anyhow::ensure!(tick.run() != 2, "the second run fails");
    Ok(())
}

/// Another discovered service, never selected here: it must not run.
#[host::periodic(every = "1s", name = "kit-unselected")]
async fn unselected() {
    panic!("not selected");
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[tokio::test(start_paused = true)]
async fn discovered_services_run_in_virtual_time_selected_by_name() {
    let mut host = TestHost::start(Host::builder().only(["kit-refresh"])).await.unwrap();
    host.advance(secs(25)).await;
    let runs = host.runs("kit-refresh");
    let starts: Vec<_> = runs.iter().map(|r| host.elapsed(r.started)).collect();
    assert_eq!(starts, [secs(0), secs(10), secs(20)]);
    assert_eq!(runs[1].outcome, Err("the second run fails".to_owned()));
    assert!(runs[0].outcome.is_ok() && runs[2].outcome.is_ok());
    assert!(host.runs("kit-unselected").is_empty());
    let status = host.status();
    assert_eq!((status[0].runs, status[0].failures), (3, 1));
    let report = host.stop().await.unwrap();
    assert_eq!(report.services[0].failed_runs, 1);
}

#[tokio::test(start_paused = true)]
async fn advancing_to_an_instant_completes_every_run_due_at_it() {
    let job = |_: Context, _: Tick| async {
        // A little work that takes no time but several polls.
        for _ in 0..5 {
            tokio::task::yield_now().await;
        }
    };
    let mut host = TestHost::start(Host::builder().discover(false).service(Service::periodic(
        "p",
        Schedule::every(secs(10)),
        job,
    )))
    .await
    .unwrap();
    let t0 = host.started_at();
    // Exactly on the tick: the run due at 10 s has completed.
    host.advance_to(t0 + secs(10)).await;
    let ends: Vec<_> = host.runs("p").iter().map(|r| host.elapsed(r.ended)).collect();
    assert_eq!(ends, [secs(0), secs(10)]);
    // One millisecond (tokio's timer resolution) before the next tick: nothing more.
    host.advance_to(t0 + secs(20) - Duration::from_millis(1)).await;
    assert_eq!(host.runs("p").len(), 2);
    host.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_run_that_sleeps_past_the_instant_is_still_running_until_advanced_further() {
    let job = |_: Context, _: Tick| async { tokio::time::sleep(secs(3)).await };
    let mut host = TestHost::start(Host::builder().discover(false).service(Service::periodic(
        "slow",
        Schedule::every(secs(10)),
        job,
    )))
    .await
    .unwrap();
    host.advance(secs(1)).await;
    assert!(host.runs("slow").is_empty());
    assert_eq!(host.status()[0].state, host::State::Running);
    host.advance(secs(2)).await;
    assert_eq!(host.runs("slow").len(), 1);
    assert_eq!(host.elapsed(host.runs("slow")[0].ended), secs(3));
    host.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn stop_at_and_the_exit_code_of_a_straggler() {
    struct Stubborn;
    impl host::HostedService for Stubborn {
        async fn run(&mut self, _ctx: &Context) -> Result<(), host::BoxError> {
            std::future::pending().await
        }
    }
    let host = TestHost::start(
        Host::builder()
            .discover(false)
            .shutdown_timeout(secs(4))
            .service(Service::hosted("stubborn", Stubborn)),
    )
    .await
    .unwrap();
    let t0 = host.started_at();
    let result = host.stop_at(t0 + secs(60)).await;
    assert_eq!(exit_code(&result), std::process::ExitCode::from(3));
    assert_eq!(result.unwrap_err().report().unwrap().shutdown, secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_start_up_error_is_returned_by_start() {
    let err = TestHost::start(Host::builder().only(["no-such-service"]))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, host::Error::UnknownService { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_job_function_can_be_called_directly_with_a_context_and_a_tick() {
    let ctx = context("kit-refresh");
    let now = tokio::time::Instant::now();
    refresh(tick(1, now)).await.unwrap();
    assert_eq!(
        refresh(tick(2, now)).await.unwrap_err().to_string(),
        "the second run fails"
    );
    assert_eq!(ctx.name(), "kit-refresh");
    assert!(!ctx.is_cancelled());
    ctx.token().cancel();
    assert!(ctx.is_cancelled());
    let late = tick(7, now - secs(2));
    assert_eq!((late.run(), late.lateness()), (7, secs(2)));
}

/// The README's example: a nightly job runs exactly once on the spring-forward night.
#[host::periodic(cron = "30 2 * * *", tz = "Europe/Berlin", name = "nightly-report")]
async fn nightly_report() {}

#[tokio::test(start_paused = true)]
async fn the_nightly_report_runs_once_on_the_spring_forward_night() {
    let eve: host::jiff::Zoned = "2026-03-28T20:00[Europe/Berlin]".parse().unwrap();
    let builder = Host::builder().only(["nightly-report"]);
    let mut host = TestHost::start_at(builder, eve.timestamp()).await.unwrap();

    host.advance(Duration::from_secs(24 * 3600)).await;

    let runs = host.runs("nightly-report");
    assert_eq!(runs.len(), 1); // 02:30 does not exist that night: it runs once, at 03:00 CEST
    let at = host.wall(runs[0].started).in_tz("Europe/Berlin").unwrap();
    assert_eq!(at.to_string(), "2026-03-29T03:00:00+02:00[Europe/Berlin]");
    host.stop().await.unwrap();
}

/// A pool-like shared value, as a user's job receives it.
struct Pool {
    queries: std::sync::atomic::AtomicU32,
}

#[host::periodic(every = "1m", name = "kit-with-pool")]
async fn with_pool(pool: host::Dep<Pool>) {
    pool.queries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

#[tokio::test(start_paused = true)]
async fn a_job_with_an_injected_value_runs_in_the_kit_and_directly() {
    let pool = std::sync::Arc::new(Pool { queries: 0.into() });
    let builder = Host::builder().only(["kit-with-pool"]).provide_arc(pool.clone());
    let mut host = TestHost::start(builder).await.unwrap();
    host.advance(Duration::from_secs(150)).await;
    assert_eq!(pool.queries.load(std::sync::atomic::Ordering::Relaxed), 3); // 0, 60, 120 s
    host.stop().await.unwrap();
    // The same function, called directly with the value a unit test makes.
    let alone = host::Dep::new(Pool { queries: 0.into() });
    with_pool(alone.clone()).await;
    assert_eq!(alone.queries.load(std::sync::atomic::Ordering::Relaxed), 1);
}

/// A hosted service built from provided values (`Service::hosted_from`, what
/// `#[hosted_service(new = …)]` generates) has its body's runs recorded like any other's.
#[tokio::test(start_paused = true)]
async fn the_kit_records_the_body_of_a_hosted_service_built_from_provided_values() {
    struct Pool;
    struct Fails;
    impl host::HostedService for Fails {
        async fn run(&mut self, _ctx: &Context) -> Result<(), host::BoxError> {
            tokio::time::sleep(secs(2)).await;
            Err("the pool is gone".into())
        }
    }
    fn connect(_pool: host::Dep<Pool>) -> Fails {
        Fails
    }
    let mut host = TestHost::start(
        Host::builder()
            .discover(false)
            .provide(Pool)
            .on_failure(host::FailurePolicy::Ignore)
            .service(Service::hosted_from("fails", connect)),
    )
    .await
    .unwrap();
    let t0 = host.started_at();
    host.advance(secs(5)).await;
    let runs = host.runs("fails");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!((runs[0].run, runs[0].started, runs[0].ended), (1, t0, t0 + secs(2)));
    assert_eq!(runs[0].outcome, Err("the pool is gone".to_owned()));
    host.stop().await.unwrap();
}
