//! singleton-bench: N singleton jobs every second on R replicas (processes) against the
//! PostgreSQL of `.ci/with-postgres`; reports database round trips per tick, lateness percentiles
//! and CPU per tick. See "Singleton jobs across replicas" in BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release -p host-bench --bin singleton-bench
//! .ci/with-postgres target/release/singleton-bench --replicas 1 --jobs 1000 --seconds 20
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use host::{Context, Host, Schedule, Service, Tick};

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn arg(args: &[String], key: &str, default: i64) -> i64 {
    args.iter()
        .position(|a| a == key)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{key} {v}")))
}

/// CPU time (user + system) of this process so far.
fn cpu() -> Duration {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0, "getrusage failed");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn url() -> String {
    std::env::var("HOST_TEST_DATABASE_URL").expect("HOST_TEST_DATABASE_URL: run under .ci/with-postgres")
}

fn xact_commits(url: &str) -> i64 {
    let out = Command::new("psql")
        .args([url, "-Atc", "SELECT pg_stat_force_next_flush(); SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"])
        .output()
        .expect("psql");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("psql: {text}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child(&args[1..]);
    }
    let replicas = arg(&args, "--replicas", 1);
    let jobs = arg(&args, "--jobs", 1000);
    let seconds = arg(&args, "--seconds", 20);
    let url = url();
    let schema = format!("bench_{}", std::process::id());
    let dir = std::env::temp_dir().join(&schema);
    std::fs::create_dir_all(&dir).unwrap();
    // The window: from 4 s after now (connections made, first ticks claimed) for `seconds`.
    let from_ms = (unix_us() / 1000 / 1000 + 4) * 1000;
    let to_ms = from_ms + seconds * 1000;
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..replicas)
        .map(|r| {
            Command::new(&exe)
                .args([
                    "child",
                    "--jobs",
                    &jobs.to_string(),
                    "--from-ms",
                    &from_ms.to_string(),
                    "--to-ms",
                    &to_ms.to_string(),
                ])
                .env("BENCH_SCHEMA", &schema)
                .env("BENCH_OUT", dir.join(format!("r{r}")))
                .spawn()
                .expect("child")
        })
        .collect();
    // The database's commit count at both ends of the window (each statement is one transaction;
    // backends flush their counters about once a second, so the edges blur by well under a tick).
    let sleep_until =
        |ms: i64| std::thread::sleep(Duration::from_micros(u64::try_from(ms * 1000 - unix_us()).unwrap_or(0)));
    sleep_until(from_ms);
    let before = xact_commits(&url);
    sleep_until(to_ms);
    let after = xact_commits(&url);
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    // Merge the children's samples: `job slot lateness_us` per run in the window, then `CPU us`.
    let mut lateness = Vec::new();
    let mut seen: HashMap<(i64, i64), u32> = HashMap::new();
    let (mut cpu_us, mut runs_total) = (0i64, 0i64);
    for r in 0..replicas {
        let text = std::fs::read_to_string(dir.join(format!("r{r}"))).unwrap();
        for line in text.lines() {
            let f: Vec<i64> = line.split_whitespace().skip(1).map(|x| x.parse().unwrap()).collect();
            if line.starts_with("run ") {
                *seen.entry((f[0], f[1])).or_default() += 1;
                lateness.push(f[2]);
            } else if line.starts_with("cpu ") {
                cpu_us += f[0];
            } else if line.starts_with("total ") {
                runs_total += f[0];
            }
        }
    }
    lateness.sort_unstable();
    let pct = |p: f64| lateness[((lateness.len() as f64 - 1.0) * p).round() as usize];
    let ticks = jobs * seconds;
    let duplicates = seen.values().filter(|n| **n > 1).count();
    let missed = ticks - seen.len() as i64;
    println!(
        "replicas={replicas} jobs={jobs} window={seconds}s job-ticks={ticks} runs={} duplicates={duplicates} missed={missed}",
        lateness.len()
    );
    println!(
        "lateness: p50={:.1}ms p99={:.1}ms max={:.1}ms",
        pct(0.5) as f64 / 1000.0,
        pct(0.99) as f64 / 1000.0,
        pct(1.0) as f64 / 1000.0
    );
    println!(
        "cpu (all replicas, window): {:.1} ms per second, {:.1} us per job-tick",
        cpu_us as f64 / 1000.0 / seconds as f64,
        cpu_us as f64 / ticks as f64
    );
    // Every statement is one transaction: the commits in the window are its round trips (less the
    // one of the psql read).
    let round_trips = after - before - 1;
    println!(
        "round trips in the window: {round_trips}: {:.2} per job-tick (all replicas together; {runs_total} runs in all)",
        round_trips as f64 / ticks as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn child(args: &[String]) {
    let jobs = arg(args, "--jobs", 1000);
    let from_ms = arg(args, "--from-ms", 0);
    let to_ms = arg(args, "--to-ms", 0);
    let schema = std::env::var("BENCH_SCHEMA").unwrap();
    let out = std::env::var("BENCH_OUT").unwrap();
    // Preallocated: (job, slot, lateness) per run.
    let samples: Arc<Mutex<Vec<(u32, i64, i64)>>> = Arc::new(Mutex::new(Vec::with_capacity(jobs as usize * 64)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let services = (0..jobs).map(|i| {
            let samples = samples.clone();
            let job = move |_: Context, tick: Tick| {
                let now = unix_us();
                // The tick's scheduled time on the database clock, in ms.
                let slot = tick.slot().unwrap_or(-1);
                samples.lock().unwrap().push((i as u32, slot, now - slot * 1_000));
                std::future::ready(())
            };
            Service::periodic(
                format!("job-{i}"),
                Schedule::every(Duration::from_secs(1)).singleton(),
                job,
            )
        });
        let host = Host::builder()
            .discover(false)
            .catch_signals(false)
            .coordination(host::postgres::Postgres::new(url()).schema(schema))
            .services(services)
            .build()
            .unwrap();
        let handle = host.handle();
        let task = tokio::spawn(host.run());
        let until = |ms: i64| Duration::from_micros(u64::try_from(ms * 1000 - unix_us()).unwrap_or(0));
        tokio::time::sleep(until(from_ms)).await;
        let cpu0 = cpu();
        tokio::time::sleep(until(to_ms)).await;
        let cpu1 = cpu();
        handle.stop();
        task.await.unwrap().unwrap();
        let samples = samples.lock().unwrap();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
        for (job, slot, late) in samples.iter() {
            if *slot >= from_ms && *slot < to_ms {
                writeln!(file, "run {job} {slot} {late}").unwrap();
            }
        }
        writeln!(file, "cpu {}", (cpu1 - cpu0).as_micros()).unwrap();
        writeln!(file, "total {}", samples.len()).unwrap();
    });
}
