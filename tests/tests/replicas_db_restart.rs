//! The coordination database restarted under three replicas (`pg_ctl stop`, then
//! `start` on the same data directory, through what `.ci/with-postgres` exports). A binary of its
//! own: cargo runs test binaries one after another, so no other test uses the server meanwhile.
#![cfg(unix)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::replicas::{Cluster, database_url, stop_all, unix_ms};

fn pg_ctl(action: &str) {
    let data = std::env::var("HOST_TEST_PGDATA").expect("HOST_TEST_PGDATA (set by .ci/with-postgres)");
    let pg_ctl = std::env::var("HOST_TEST_PG_CTL").expect("HOST_TEST_PG_CTL (set by .ci/with-postgres)");
    let run_as = std::env::var("HOST_TEST_PG_RUN_AS").unwrap_or_default();
    let mut argv: Vec<String> = run_as.split_whitespace().map(str::to_owned).collect();
    argv.push(pg_ctl);
    argv.extend(["-D".into(), data.clone(), "-w".into(), "-m".into(), "fast".into()]);
    if action == "start" {
        argv.extend(["-l".into(), format!("{data}/../restart.log")]);
    }
    argv.push(action.into());
    let status = Command::new(&argv[0]).args(&argv[1..]).status().expect("pg_ctl runs");
    assert!(status.success(), "pg_ctl {action} failed");
}

/// The database stops for 3 s under three replicas running a 1 s singleton job: the ticks due
/// meanwhile are skipped and logged (never run unguarded), no tick runs twice, and runs resume
/// once the database is back.
#[test]
fn a_database_restart_causes_no_duplicate_and_runs_resume() {
    let Some(url) = database_url() else { return };
    // Restarting needs the server's data directory: a database of one's own is not restarted.
    if std::env::var_os("HOST_TEST_PGDATA").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "HOST_TEST_PGDATA is not set, and CI is: run under `.ci/with-postgres`"
        );
        eprintln!("note: skipped, HOST_TEST_PGDATA is not set: run under `.ci/with-postgres`");
        return;
    }
    let cluster = Cluster::new(url, "restart");
    let procs: Vec<_> = ["r1", "r2", "r3"].iter().map(|r| cluster.start(r, &[])).collect();
    let first = cluster
        .wait_runs("a first run", |runs| !runs.0.is_empty())
        .first_tick()
        .unwrap();
    cluster.wait_runs("3 ticks", |runs| runs.last_tick().is_some_and(|t| t >= first + 3));
    pg_ctl("stop");
    let stopped_at = unix_ms();
    // The outage itself: what the test is about.
    std::thread::sleep(Duration::from_secs(3));
    pg_ctl("start");
    let started_at = unix_ms();
    let resumed = cluster.wait_runs("3 runs after the restart", |runs| {
        runs.0.iter().filter(|r| r.start_ms > started_at).count() >= 3
    });
    let outs = stop_all(procs);
    let runs = cluster.runs();
    assert!(runs.duplicates().is_empty(), "ticks run twice: {:?}", runs.duplicates());
    assert!(runs.fences_increase(), "{runs:?}");
    // Nothing ran while the database was down.
    let during: Vec<_> = runs
        .0
        .iter()
        .filter(|r| r.start_ms > stopped_at + 50 && r.start_ms < started_at)
        .collect();
    assert!(during.is_empty(), "runs while the database was down: {during:?}");
    assert!(resumed.0.iter().any(|r| r.start_ms > started_at));
    assert!(
        outs.iter()
            .any(|o| o.contains("tick skipped: coordination unavailable")),
        "no replica logged the skipped ticks:\n{}",
        outs.join("\n")
    );
}
