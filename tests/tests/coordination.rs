//! Singleton jobs under tokio's paused clock, coordinated in-process
//! ([`host::coordination::InProcess`], the PostgreSQL backend's rules on tokio's clock): exact
//! instants, tick numbers, fences, round trips, an unreachable backend, catch-up, a lost lease, and
//! the configuration errors. The same behaviour against a real PostgreSQL, as real processes, is in
//! `replicas.rs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{builder, ms, secs};
use host::coordination::InProcess;
use host::{CatchUp, Context, CoordinationState, Error, Host, HostHandle, Schedule, ScheduleError, Service, Tick};
use tokio::time::Instant;

/// A tick boundary: the in-process clock starts on it.
const EPOCH_MS: i64 = 1_000_000_000_000;
/// Tick number of the epoch with a 1 s period.
const T0: i64 = EPOCH_MS / 1000;

/// What each run saw: (replica, slot, fence, started since the test began).
type Log = Arc<Mutex<Vec<(&'static str, i64, u64, Duration)>>>;

fn replica(
    name: &'static str,
    schedule: Schedule,
    shared: &InProcess,
    log: &Log,
    begin: Instant,
    run_for: Duration,
) -> Host {
    let log = log.clone();
    let job = move |ctx: Context, tick: Tick| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push((
                name,
                tick.slot().unwrap() / 1000,
                tick.fence().unwrap(),
                begin.elapsed(),
            )); // tick number: slot (ms) / period
            tokio::select! {
                _ = ctx.cancelled() => {}
                _ = tokio::time::sleep(run_for) => {}
            }
        }
    };
    builder()
        .coordination(shared.clone())
        .service(Service::periodic("billing", schedule, job))
        .build()
        .unwrap()
}

fn every_second() -> Schedule {
    Schedule::every(secs(1)).singleton()
}

async fn run_all(hosts: Vec<Host>, for_: Duration) {
    let handles: Vec<HostHandle> = hosts.iter().map(Host::handle).collect();
    let tasks: Vec<_> = hosts.into_iter().map(|h| tokio::spawn(h.run())).collect();
    tokio::time::sleep(for_).await;
    handles.iter().for_each(HostHandle::stop);
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

/// Two replicas share the coordination: each tick, from the first boundary after start, runs
/// exactly once, 2 ms after its boundary (the wake-up margin), with a fence that grows by one per
/// claim; per tick the replicas make 3 round trips (a claim each, one release).
#[tokio::test(start_paused = true)]
async fn two_replicas_run_each_tick_once_on_the_database_clock() {
    let shared = InProcess::starting_at(EPOCH_MS);
    let log: Log = Arc::default();
    let begin = Instant::now();
    let hosts = vec![
        replica("a", every_second(), &shared, &log, begin, ms(100)),
        replica("b", every_second(), &shared, &log, begin, ms(100)),
    ];
    run_all(hosts, ms(10_500)).await;
    let log = log.lock().unwrap().clone();
    let slots: Vec<i64> = log.iter().map(|r| r.1).collect();
    assert_eq!(slots, (T0 + 1..=T0 + 10).collect::<Vec<_>>(), "{log:?}");
    let fences: Vec<u64> = log.iter().map(|r| r.2).collect();
    assert_eq!(fences, (1..=10).collect::<Vec<_>>());
    let starts: Vec<Duration> = log.iter().map(|r| r.3).collect();
    assert_eq!(starts, (1..=10).map(|s| secs(s) + ms(2)).collect::<Vec<_>>());
    // 2 first clock readings, then per tick 2 claims and 1 release.
    assert_eq!(shared.round_trips(), 2 + 10 * 3);
}

/// Runs of 2.5 s on a 1 s period, two replicas: the ticks due while a run holds the lease are
/// skipped by both (by the holder too, when its run ends), so runs never overlap across replicas
/// and stay on the grid.
#[tokio::test(start_paused = true)]
async fn ticks_due_while_a_run_holds_the_lease_are_skipped_everywhere() {
    let shared = InProcess::starting_at(EPOCH_MS);
    let log: Log = Arc::default();
    let begin = Instant::now();
    let hosts = vec![
        replica("a", every_second(), &shared, &log, begin, ms(2_500)),
        replica("b", every_second(), &shared, &log, begin, ms(2_500)),
    ];
    run_all(hosts, ms(10_500)).await;
    let log = log.lock().unwrap().clone();
    let runs: Vec<(i64, Duration)> = log.iter().map(|r| (r.1 - T0, r.3)).collect();
    assert_eq!(runs, [(1, ms(1_002)), (4, ms(4_002)), (7, ms(7_002)), (10, ms(10_002))]);
}

/// A singleton cron job (`*/2 * * * * *`: every even second) on two replicas, one of whose wall
/// clock is 5 s ahead (the host's injectable wall clock, which ordinary cron jobs follow): each
/// occurrence runs once, 2 ms after it falls on the database clock, named by its scheduled time.
#[tokio::test(start_paused = true)]
async fn a_singleton_cron_job_runs_each_occurrence_once_whatever_the_wall_clocks() {
    let shared = InProcess::starting_at(EPOCH_MS); // 2001-09-09T01:46:40Z: an even second
    let log: Arc<Mutex<Vec<(i64, Duration)>>> = Arc::default();
    let begin = Instant::now();
    let make = |skew: i64| {
        let log = log.clone();
        let job = move |_: Context, tick: Tick| {
            let log = log.clone();
            async move {
                log.lock()
                    .unwrap()
                    .push((tick.slot().unwrap() - EPOCH_MS, begin.elapsed()))
            }
        };
        let wall = host::jiff::Timestamp::from_millisecond(EPOCH_MS + skew).unwrap();
        builder()
            .coordination(shared.clone())
            .wall_clock_origin(wall)
            .service(Service::periodic(
                "report",
                Schedule::cron("*/2 * * * * *").singleton(),
                job,
            ))
            .build()
            .unwrap()
    };
    run_all(vec![make(0), make(5_000)], ms(10_500)).await;
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log,
        [2, 4, 6, 8, 10].map(|s| (s * 1000, secs(s as u64) + ms(2))),
        "every even second once, on time"
    );
}

/// An ordinary job's tick has no fence and no slot.
#[tokio::test(start_paused = true)]
async fn ordinary_jobs_have_no_fence() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let job = move |_: Context, tick: Tick| {
        let record = record.clone();
        async move { record.lock().unwrap().push((tick.fence(), tick.slot())) }
    };
    let host = builder()
        .service(Service::periodic("plain", Schedule::every(secs(1)), job))
        .build()
        .unwrap();
    run_all(vec![host], ms(1_500)).await;
    assert_eq!(*seen.lock().unwrap(), [(None, None), (None, None)]);
}

/// The backend unreachable from 3.5 s to 6.5 s: the ticks due at 4, 5 and 6 s are skipped (never
/// run unguarded), each counted as a failed run; the status shows the coordination unavailable,
/// then available again; runs resume at the first tick after it is back.
#[tokio::test(start_paused = true)]
async fn an_unreachable_backend_skips_ticks_and_shows_in_the_status() {
    let shared = InProcess::starting_at(EPOCH_MS);
    let log: Log = Arc::default();
    let begin = Instant::now();
    let host = replica("a", every_second(), &shared, &log, begin, ms(100));
    let handle = host.handle();
    let task = tokio::spawn(host.run());
    tokio::time::sleep(ms(3_500)).await;
    assert_eq!(handle.status()[0].coordination, Some(CoordinationState::Available));
    shared.set_available(false);
    tokio::time::sleep(secs(3)).await;
    let status = handle.status().remove(0);
    assert_eq!(status.coordination, Some(CoordinationState::Unavailable));
    assert_eq!(status.failures, 3);
    assert!(
        status
            .last_error
            .unwrap()
            .contains("service `billing`: coordination backend unavailable")
    );
    shared.set_available(true);
    tokio::time::sleep(secs(4)).await;
    assert_eq!(handle.status()[0].coordination, Some(CoordinationState::Available));
    handle.stop();
    task.await.unwrap().unwrap();
    let slots: Vec<i64> = log.lock().unwrap().iter().map(|r| r.1).collect();
    assert_eq!(slots, [1, 2, 3, 7, 8, 9, 10].map(|s| T0 + s));
}

/// With `max_failures = 2`, two ticks skipped in a row for an unreachable backend fail the service
/// and, under the default policy, stop the host (exit code 1).
#[tokio::test(start_paused = true)]
async fn max_failures_decides_whether_an_outage_stops_the_host() {
    let shared = InProcess::starting_at(EPOCH_MS);
    shared.set_available(false);
    let log: Log = Arc::default();
    let host = replica(
        "a",
        every_second().max_failures(2),
        &shared,
        &log,
        Instant::now(),
        ms(100),
    );
    let error = host.run().await.unwrap_err();
    assert!(matches!(error, Error::ServiceFailed { .. }), "{error}");
    assert_eq!(error.exit_code(), std::process::ExitCode::from(1));
    assert!(log.lock().unwrap().is_empty());
}

/// A run whose lease cannot be renewed (the backend unreachable from 1.5 s; lease 3 s, renewed
/// every second) is cancelled as soon as the next renewal would come after the lease ran out: the
/// renewal at 3.002 s fails and the one after it would be at 4.002 s, when the lease (taken at
/// 1.002 s) ends, so the run's token is cancelled at 3.002 s, while the host goes on.
#[tokio::test(start_paused = true)]
async fn a_lost_lease_cancels_the_run_at_once() {
    let shared = InProcess::starting_at(EPOCH_MS);
    let cancelled = Arc::new(Mutex::new(None));
    let record = cancelled.clone();
    let begin = Instant::now();
    let job = move |ctx: Context, _tick: Tick| {
        let record = record.clone();
        async move {
            ctx.cancelled().await;
            record.lock().unwrap().get_or_insert(begin.elapsed());
        }
    };
    let host = builder()
        .coordination(shared.clone())
        .service(Service::periodic("long", every_second().lease(secs(3)), job))
        .build()
        .unwrap();
    let handle = host.handle();
    let task = tokio::spawn(host.run());
    tokio::time::sleep(ms(1_500)).await;
    shared.set_available(false);
    tokio::time::sleep(secs(3)).await;
    assert_eq!(*cancelled.lock().unwrap(), Some(ms(3_002)));
    assert!(!handle.is_stop_requested());
    handle.stop();
    task.await.unwrap().unwrap();
}

/// Another replica takes the job over while a run holds it (as after this replica stalled past its
/// lease): the holder's next renewal (a third of the 3 s lease after the claim) finds the row's
/// fence changed, and the run's token is cancelled then; the release does not touch the new
/// holder's claim; the host goes on.
#[tokio::test(start_paused = true)]
async fn a_run_whose_job_was_taken_over_is_cancelled_at_its_next_renewal() {
    let shared = InProcess::starting_at(EPOCH_MS);
    let cancelled = Arc::new(Mutex::new(None));
    let record = cancelled.clone();
    let begin = Instant::now();
    let job = move |ctx: Context, tick: Tick| {
        let record = record.clone();
        async move {
            ctx.cancelled().await;
            record.lock().unwrap().get_or_insert((tick.fence(), begin.elapsed()));
        }
    };
    let host = builder()
        .coordination(shared.clone())
        .service(Service::periodic("long", every_second().lease(secs(3)), job))
        .build()
        .unwrap();
    let handle = host.handle();
    let task = tokio::spawn(host.run());
    tokio::time::sleep(ms(1_500)).await; // the run of the tick at 1 s holds fence 1
    assert_eq!(shared.take_over("long"), Some(2));
    tokio::time::sleep(secs(1)).await;
    assert_eq!(*cancelled.lock().unwrap(), Some((Some(1), ms(2_002))));
    assert_eq!(shared.fence("long"), Some(2), "the release left the new claim alone");
    assert!(!handle.is_stop_requested());
    handle.stop();
    task.await.unwrap().unwrap();
}

/// Catch-up: a replica with `CatchUp::Once` runs the current tick at once when it starts and the
/// tick was never claimed (the first start, and after every replica was down over ticks: one run
/// for all of them); without it the first run waits for the next boundary and the missed ticks
/// stay missed.
#[tokio::test(start_paused = true)]
async fn catch_up_once_runs_the_missed_tick_at_start() {
    for catch_up in [CatchUp::Once, CatchUp::Skip] {
        // Mid-tick: 500 ms after a boundary.
        let shared = InProcess::starting_at(EPOCH_MS + 500);
        let log: Log = Arc::default();
        let begin = Instant::now();
        let schedule = || every_second().catch_up(catch_up);
        run_all(vec![replica("a", schedule(), &shared, &log, begin, ms(100))], ms(1_200)).await;
        // Everyone down from 1.2 s to 4.2 s: the ticks due at 1.5, 2.5 and 3.5 s are missed.
        tokio::time::sleep(secs(3)).await;
        run_all(vec![replica("b", schedule(), &shared, &log, begin, ms(100))], ms(1_000)).await;
        let log: Vec<(&str, i64, Duration)> = log.lock().unwrap().iter().map(|r| (r.0, r.1 - T0, r.3)).collect();
        match catch_up {
            CatchUp::Once => assert_eq!(
                log,
                [
                    ("a", 0, ms(0)),     // never claimed before: caught up at start
                    ("a", 1, ms(502)),   // its boundary
                    ("b", 4, ms(4_200)), // ticks 2, 3 and 4 missed: one run, at once
                    ("b", 5, ms(4_502)),
                ]
            ),
            _ => assert_eq!(log, [("a", 1, ms(502)), ("b", 5, ms(4_502))]),
        }
    }
}

/// A singleton without coordination is a build error naming the service, exit code 2.
#[test]
fn a_singleton_without_coordination_is_a_build_error() {
    let error = builder()
        .service(Service::periodic("billing", every_second(), |_, _| async {}))
        .build()
        .err()
        .unwrap();
    assert!(
        matches!(&error, Error::InvalidSchedule { service, source: ScheduleError::SingletonWithoutCoordination } if service == "billing"),
        "{error}"
    );
    assert_eq!(error.exit_code(), std::process::ExitCode::from(2));
    assert!(error.to_string().contains("Host::builder().coordination("), "{error}");
}

/// A PostgreSQL URL that does not parse, or an empty table name, is a build error (exit code 2).
#[test]
fn an_invalid_postgres_configuration_is_a_build_error() {
    for pg in [
        host::postgres::Postgres::new("postgresql://host:notaport/db"),
        host::postgres::Postgres::new("postgresql:///db").table(""),
    ] {
        let error = builder()
            .coordination(pg)
            .service(Service::periodic("billing", every_second(), |_, _| async {}))
            .build()
            .err()
            .unwrap();
        assert!(matches!(error, Error::InvalidCoordination { .. }), "{error}");
        assert_eq!(error.exit_code(), std::process::ExitCode::from(2));
    }
}

/// What `singleton` cannot be combined with, by hand as by the macro.
#[test]
fn singleton_schedules_are_validated() {
    let invalid = [
        Schedule::fixed_delay(secs(1)).singleton(),
        Schedule::every(secs(1)).singleton().initial_delay(secs(1)),
        Schedule::every(secs(1))
            .singleton()
            .missed_ticks(host::MissedTicks::Burst),
        Schedule::every(secs(1)).singleton().lease(ms(10)),
        Schedule::every(secs(1)).catch_up(CatchUp::Once),
    ];
    for schedule in invalid {
        assert!(
            matches!(schedule.validate(), Err(ScheduleError::Singleton(_))),
            "{schedule}"
        );
    }
    assert!(
        Schedule::every(secs(1))
            .singleton()
            .catch_up(CatchUp::Once)
            .validate()
            .is_ok()
    );
    assert!(Schedule::every(secs(1)).singleton().is_singleton());
}
