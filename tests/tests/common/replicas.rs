//! Replicas of `bin/replica.rs` against the PostgreSQL of `.ci/with-postgres`, and the
//! runs they record.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::process::{PATIENCE, Proc};

/// The database URL; without it the test is skipped locally (with a note) and fails under CI.
pub fn database_url() -> Option<String> {
    match std::env::var("HOST_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "HOST_TEST_DATABASE_URL is not set, and CI is: the replica tests need PostgreSQL; run them under \
             `.ci/with-postgres` (as `.ci/run` does)"
        ),
        _ => {
            eprintln!(
                "note: skipped, HOST_TEST_DATABASE_URL is not set; run `.ci/with-postgres cargo test -p tests --test \
                 replicas` for the tests against a real PostgreSQL"
            );
            None
        }
    }
}

/// Milliseconds since the Unix epoch (the test machine's clock, which the local server shares).
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One test's replicas: its own schema and runs file.
pub struct Cluster {
    pub url: String,
    pub schema: String,
    pub runs_file: PathBuf,
}

impl Cluster {
    pub fn new(url: String, test: &str) -> Cluster {
        let schema = format!("t_{test}_{}", std::process::id());
        let runs_file = std::env::temp_dir().join(format!("host-replicas-{schema}.log"));
        let _ = std::fs::remove_file(&runs_file);
        Cluster { url, schema, runs_file }
    }

    /// Starts replica `name` with extra environment; returns once it has connected.
    pub fn start(&self, name: &str, env: &[(&str, &str)]) -> Proc {
        let runs = self.runs_file.to_string_lossy().into_owned();
        let mut all = vec![
            ("HOST_TEST_DATABASE_URL", self.url.as_str()),
            ("REPLICA_SCHEMA", self.schema.as_str()),
            ("REPLICA_NAME", name),
            ("REPLICA_RUNS_FILE", runs.as_str()),
        ];
        all.extend_from_slice(env);
        let mut p = Proc::spawn(Path::new(env!("CARGO_BIN_EXE_replica")), &all);
        p.wait_for("connected to the coordination database");
        p
    }

    pub fn runs(&self) -> Runs {
        Runs::parse(&std::fs::read_to_string(&self.runs_file).unwrap_or_default())
    }

    /// Polls the runs file until `until` holds (the replicas write it; no fixed sleep decides).
    pub fn wait_runs(&self, what: &str, until: impl Fn(&Runs) -> bool) -> Runs {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let runs = self.runs();
            if until(&runs) {
                return runs;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; runs:\n{runs:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.runs_file);
    }
}

/// One recorded run.
#[derive(Debug, Clone)]
pub struct Run {
    pub tick: i64,
    pub fence: u64,
    pub replica: String,
    pub pid: u32,
    pub start_ms: i64,
    pub ended: bool,
}

/// Every run, in file order.
#[derive(Debug, Clone, Default)]
pub struct Runs(pub Vec<Run>);

impl Runs {
    fn parse(text: &str) -> Runs {
        let mut runs: Vec<Run> = Vec::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["start", tick, fence, replica, pid, ms] => runs.push(Run {
                    tick: tick.parse().unwrap(),
                    fence: fence.parse().unwrap(),
                    replica: (*replica).to_owned(),
                    pid: pid.parse().unwrap(),
                    start_ms: ms.parse().unwrap(),
                    ended: false,
                }),
                ["end", tick, fence, replica] => {
                    let run = runs
                        .iter_mut()
                        .rev()
                        .find(|r| r.tick.to_string() == *tick && r.fence.to_string() == *fence && r.replica == *replica)
                        .unwrap_or_else(|| panic!("an end without a start: {line}"));
                    run.ended = true;
                }
                _ => panic!("unexpected line in the runs file: {line:?}"),
            }
        }
        Runs(runs)
    }

    /// How often each tick ran.
    pub fn per_tick(&self) -> BTreeMap<i64, Vec<&Run>> {
        let mut map: BTreeMap<i64, Vec<&Run>> = BTreeMap::new();
        for run in &self.0 {
            map.entry(run.tick).or_default().push(run);
        }
        map
    }

    /// Ticks that ran more than once.
    pub fn duplicates(&self) -> Vec<(i64, Vec<String>)> {
        self.per_tick()
            .into_iter()
            .filter(|(_, runs)| runs.len() > 1)
            .map(|(tick, runs)| (tick, runs.iter().map(|r| r.replica.clone()).collect()))
            .collect()
    }

    /// Ticks in `from..=to` that never ran.
    pub fn missing(&self, from: i64, to: i64) -> Vec<i64> {
        let per = self.per_tick();
        (from..=to).filter(|t| !per.contains_key(t)).collect()
    }

    pub fn first_tick(&self) -> Option<i64> {
        self.0.iter().map(|r| r.tick).min()
    }

    pub fn last_tick(&self) -> Option<i64> {
        self.0.iter().map(|r| r.tick).max()
    }

    /// Fences increase with the tick: a later claim never has a smaller fence.
    pub fn fences_increase(&self) -> bool {
        let per = self.per_tick();
        let fences: Vec<u64> = per.values().map(|runs| runs[0].fence).collect();
        fences.windows(2).all(|w| w[0] < w[1])
    }
}

/// SIGTERM to every replica; each must exit 0. Returns their output.
pub fn stop_all(procs: Vec<Proc>) -> Vec<String> {
    for p in &procs {
        p.signal("TERM");
    }
    procs
        .into_iter()
        .map(|p| {
            let (status, out) = p.wait();
            assert_eq!(status.code(), Some(0), "a replica did not exit cleanly:\n{out}");
            out
        })
        .collect()
}
