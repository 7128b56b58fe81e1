//! Singleton jobs across replicas, as real processes (`bin/replica.rs`) against a real
//! PostgreSQL (`.ci/with-postgres cargo test -p tests --test replicas`). Every replica runs the same
//! 1 s singleton job and records each run in a file; the tests read that file.
//!
//! Windows are shorter than the 20 s where the property does not need more (10 s); the
//! exactly-once test keeps 20 s. The test restarting the database is in
//! `replicas_db_restart.rs`: a binary of its own, so that no other test shares the server then.
#![cfg(unix)]

mod common;

use std::time::Duration;

use common::replicas::{Cluster, database_url, stop_all, unix_ms};

/// Three replicas, a 1 s singleton job, 20 s: every tick in the window ran exactly once (0
/// duplicates, 0 missed), and fences increase with the ticks.
#[test]
fn three_replicas_run_every_tick_exactly_once() {
    let Some(url) = database_url() else { return };
    let cluster = Cluster::new(url, "once");
    let procs: Vec<_> = ["r1", "r2", "r3"].iter().map(|r| cluster.start(r, &[])).collect();
    let first = cluster
        .wait_runs("a first run", |runs| !runs.0.is_empty())
        .first_tick()
        .unwrap();
    cluster.wait_runs("20 ticks", |runs| runs.last_tick().is_some_and(|t| t >= first + 20));
    let outs = stop_all(procs);
    let runs = cluster.runs();
    let last = runs.last_tick().unwrap();
    assert!(runs.duplicates().is_empty(), "ticks run twice: {:?}", runs.duplicates());
    assert!(
        runs.missing(first, last).is_empty(),
        "ticks missed: {:?}",
        runs.missing(first, last)
    );
    assert!(last - first >= 20, "{first}..{last}");
    assert!(runs.fences_increase(), "{runs:?}");
    for out in outs {
        assert!(!out.contains("coordination unavailable"), "{out}");
    }
}

/// The same with a singleton cron job (`*/1 * * * * *`, every second) for 10 s: each occurrence
/// exactly once, named by its scheduled time on the database clock.
#[test]
fn three_replicas_run_each_cron_occurrence_exactly_once() {
    let Some(url) = database_url() else { return };
    let cluster = Cluster::new(url, "cron");
    let env = [("REPLICA_CRON", "*/1 * * * * *")];
    let procs: Vec<_> = ["r1", "r2", "r3"].iter().map(|r| cluster.start(r, &env)).collect();
    let first = cluster
        .wait_runs("a first run", |runs| !runs.0.is_empty())
        .first_tick()
        .unwrap();
    cluster.wait_runs("10 ticks", |runs| runs.last_tick().is_some_and(|t| t >= first + 10));
    stop_all(procs);
    let runs = cluster.runs();
    let last = runs.last_tick().unwrap();
    assert!(runs.duplicates().is_empty(), "ticks run twice: {:?}", runs.duplicates());
    assert!(
        runs.missing(first, last).is_empty(),
        "ticks missed: {:?}",
        runs.missing(first, last)
    );
    assert!(runs.fences_increase(), "{runs:?}");
}

/// A replica whose wall clock is 5 s ahead (the host's injectable wall clock) among two others:
/// no tick runs twice and none is missed, because ticks and leases use the database's clock only.
#[test]
fn a_replica_with_a_skewed_wall_clock_causes_no_duplicate() {
    let Some(url) = database_url() else { return };
    let cluster = Cluster::new(url, "skew");
    let procs = vec![
        cluster.start("r1", &[]),
        cluster.start("r2", &[]),
        cluster.start("skewed", &[("REPLICA_SKEW_MS", "5000")]),
    ];
    let first = cluster
        .wait_runs("a first run", |runs| !runs.0.is_empty())
        .first_tick()
        .unwrap();
    cluster.wait_runs("10 ticks", |runs| runs.last_tick().is_some_and(|t| t >= first + 10));
    let outs = stop_all(procs);
    assert!(outs[2].contains("wall clock skewed skew_ms=5000"), "{}", outs[2]);
    let runs = cluster.runs();
    let last = runs.last_tick().unwrap();
    assert!(runs.duplicates().is_empty(), "ticks run twice: {:?}", runs.duplicates());
    assert!(
        runs.missing(first, last).is_empty(),
        "ticks missed: {:?}",
        runs.missing(first, last)
    );
}

/// `kill -9` of the replica holding the lease mid-run (runs last 700 ms, the lease is 3 s): its
/// tick is not run again (at most once), another replica runs the first tick due after the lease
/// ran out (within lease + one period of the kill), and every tick after that runs exactly once.
#[test]
fn killing_the_lease_holder_mid_run_hands_the_job_over_within_the_lease() {
    let Some(url) = database_url() else { return };
    let cluster = Cluster::new(url, "kill");
    let env = [("REPLICA_RUN", "700ms"), ("REPLICA_LEASE", "3s")];
    let mut procs: Vec<_> = ["r1", "r2", "r3"].iter().map(|r| cluster.start(r, &env)).collect();
    let first = cluster
        .wait_runs("a first run", |runs| !runs.0.is_empty())
        .first_tick()
        .unwrap();
    // A run in progress, a few ticks in, started less than 300 ms ago (so that it is still
    // running, 400 ms before its end, when the signal arrives).
    let in_progress = |r: &&common::replicas::Run| r.tick >= first + 2 && !r.ended && unix_ms() - r.start_ms < 300;
    let runs = cluster.wait_runs("a run in progress", |runs| runs.0.iter().any(|r| in_progress(&r)));
    let victim = runs.0.iter().find(in_progress).unwrap().clone();
    let at = procs
        .iter()
        .position(|p| p.id() == victim.pid)
        .expect("the victim is one of ours");
    let killed = procs.remove(at);
    killed.signal("KILL");
    let killed_at = unix_ms();
    let (status, _) = killed.wait();
    assert_eq!(status.code(), None, "killed by a signal");
    let k = victim.tick;
    cluster.wait_runs("5 ticks after the takeover", |runs| {
        runs.last_tick().is_some_and(|t| t >= k + 4 + 5)
    });
    stop_all(procs);
    let runs = cluster.runs();
    let per = runs.per_tick();
    // The killed tick: started once, never ended, never run again.
    assert_eq!(per[&k].len(), 1, "{:?}", per[&k]);
    assert!(!per[&k][0].ended, "{:?}", per[&k]);
    assert!(runs.duplicates().is_empty(), "ticks run twice: {:?}", runs.duplicates());
    // The next run: another replica, within the lease (3 s) plus one period of the kill.
    let next = runs.0.iter().filter(|r| r.tick > k).min_by_key(|r| r.tick).unwrap();
    assert_ne!(next.pid, victim.pid);
    assert!(next.tick <= k + 4, "next tick {} after killed tick {k}", next.tick);
    assert!(
        next.start_ms - killed_at <= 3_000 + 1_000 + 500,
        "the next run started {} ms after the kill",
        next.start_ms - killed_at
    );
    // From the takeover on, every tick exactly once again.
    let last = runs.last_tick().unwrap();
    assert!(
        runs.missing(next.tick, last).is_empty(),
        "{:?}",
        runs.missing(next.tick, last)
    );
    assert!(runs.fences_increase(), "{runs:?}");
}

/// Catch-up: a replica runs a 2 s singleton job with `catch_up = once`, and stops; nothing runs for
/// two ticks; the replica that starts then runs the current tick at once (before the next
/// boundary): one run for the missed ticks, which are not run one by one; then the schedule goes on.
#[test]
fn catch_up_runs_a_tick_missed_while_every_replica_was_down_once() {
    let Some(url) = database_url() else { return };
    let cluster = Cluster::new(url, "catchup");
    let env = [("REPLICA_EVERY", "2s"), ("REPLICA_CATCH_UP", "once")];
    let first = cluster.start("r1", &env);
    cluster.wait_runs("a completed run", |runs| runs.0.iter().any(|r| r.ended));
    stop_all(vec![first]);
    let last_before = cluster.runs().last_tick().unwrap();
    // Down over two boundaries; back early in a period, so that the catch-up run is distinguishable
    // from the next regular one.
    let mut now = unix_ms();
    while now / 2000 < last_before + 3 || now % 2000 > 400 {
        std::thread::sleep(Duration::from_millis(5));
        now = unix_ms();
    }
    let spawned_at = now;
    let current = spawned_at / 2000;
    let mut second = cluster.start("r2", &env);
    let line = second.wait_for("catching up");
    assert!(
        line.contains(&format!("missed={}", current - last_before - 1)),
        "{line}"
    );
    let runs = cluster.wait_runs("the next regular run", |runs| {
        runs.last_tick().is_some_and(|t| t > current)
    });
    stop_all(vec![second]);
    let after: Vec<_> = runs.0.iter().filter(|r| r.tick > last_before).collect();
    assert_eq!(after[0].tick, current, "{runs:?}");
    assert!(
        after[0].start_ms < (current + 1) * 2000,
        "ran before the next boundary: {:?}",
        after[0]
    );
    assert_eq!(after[1].tick, current + 1, "{runs:?}");
    // The ticks missed while down were not run one by one.
    assert!(runs.missing(last_before + 1, current - 1).len() as i64 == current - last_before - 1);
    assert!(runs.duplicates().is_empty(), "{:?}", runs.duplicates());
}
