//! `host-bench queue [--items N] [--reps R] [--threads T]`: throughput of trivial items through
//! `host::queue` at concurrency 1 and 8, against a hand-written `tokio::sync::mpsc` + worker
//! loop(s), in one process, repetitions interleaved. Prints a Markdown table of medians.
//!
//! Each cell builds a fresh multi-threaded runtime and times, from the first enqueue until every
//! item has been handled: one producer task enqueueing `N` items (waiting for room), and the
//! workers. For `host` the end is the host's return after its shutdown drained the queue (the host
//! is stopped right after the last enqueue); for the baseline it is the workers' end after the
//! sender was dropped. Both channels hold 1024 items.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

const CAPACITY: usize = 1024;

/// The trivial per-item work both sides do.
async fn work(item: u64) {
    black_box(item);
}

/// The hand-written loop: one receiver; with several workers, shared behind tokio's mutex (the
/// usual way to share a `tokio::sync::mpsc::Receiver`).
async fn baseline(items: u64, workers: usize) {
    let (tx, rx) = mpsc::channel::<u64>(CAPACITY);
    let mut tasks = Vec::with_capacity(workers);
    if workers == 1 {
        let mut rx = rx;
        tasks.push(tokio::spawn(async move {
            while let Some(item) = rx.recv().await {
                work(item).await;
            }
        }));
    } else {
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..workers {
            let rx = Arc::clone(&rx);
            tasks.push(tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    match next {
                        Some(item) => work(item).await,
                        None => break,
                    }
                }
            }));
        }
    }
    for i in 0..items {
        if tx.send(i).await.is_err() {
            panic!("the baseline's workers ended early");
        }
    }
    drop(tx);
    for t in tasks {
        t.await.expect("baseline worker");
    }
}

async fn queue(items: u64, workers: usize) {
    let (service, queue) = host::queue::Queue::builder("bench", |item: u64, _ctx: host::Context| work(item))
        .capacity(CAPACITY)
        .concurrency(workers)
        .build();
    let host = host::Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(service)
        .build()
        .expect("host");
    let handle = host.handle();
    let run = tokio::spawn(host.run());
    for i in 0..items {
        if queue.enqueue(i).await.is_err() {
            panic!("the queue closed early");
        }
    }
    handle.stop();
    run.await.expect("host task").expect("clean shutdown");
    let s = queue.stats();
    assert_eq!(s.processed, items, "{s:?}");
}

/// CPU time (user + system) of the whole process so far.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes into the struct we pass and reads nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// One cell: (wall time, CPU time of every thread of the process).
fn cell(imp: &str, items: u64, workers: usize, threads: usize) -> (Duration, Duration) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    let (t0, c0) = (Instant::now(), cpu_time());
    rt.block_on(async {
        match imp {
            "baseline" => baseline(items, workers).await,
            _ => queue(items, workers).await,
        }
    });
    (t0.elapsed(), cpu_time().saturating_sub(c0))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

pub(crate) fn run(args: &[String]) {
    let mut items: u64 = 1_000_000;
    let mut reps: usize = 5;
    let mut threads: usize = 2;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(key) = it.next() {
        if key == "--only" {
            only = it.next().cloned();
            continue;
        }
        let value = it.next().and_then(|v| v.parse::<u64>().ok());
        match (key.as_str(), value) {
            ("--items", Some(v)) => items = v,
            ("--reps", Some(v)) => reps = usize::try_from(v).unwrap_or(5).max(1),
            ("--threads", Some(v)) => threads = usize::try_from(v).unwrap_or(2).max(1),
            _ => crate::usage("queue options: --items N --reps R --threads T --only host-1|baseline-8|…"),
        }
    }
    let cells: Vec<(&str, usize)> = vec![("baseline", 1), ("host", 1), ("baseline", 8), ("host", 8)];
    // One cell alone, for profiling: `--only host-1`.
    if let Some(only) = only {
        let (imp, workers) = only
            .split_once('-')
            .unwrap_or_else(|| crate::usage("--only <impl>-<concurrency>"));
        let workers = workers
            .parse()
            .unwrap_or_else(|_| crate::usage("--only <impl>-<concurrency>"));
        for rep in 0..reps {
            let (w, c) = cell(imp, items, workers, threads);
            eprintln!("rep {rep}: {imp} c={workers}: wall {w:?}, cpu {c:?}");
        }
        return;
    }
    let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); cells.len()];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); cells.len()];
    // Interleaved: every cell once per repetition, so drift in the machine's load hits all alike;
    // the order rotates by one cell per repetition, so no cell always follows the same one.
    for rep in 0..reps {
        for k in 0..cells.len() {
            let i = (k + rep) % cells.len();
            let (imp, workers) = &cells[i];
            let (w, c) = cell(imp, items, *workers, threads);
            eprintln!("rep {rep}: {imp} c={workers}: wall {w:?}, cpu {c:?}");
            wall[i].push(w);
            cpu[i].push(c);
        }
    }
    let wall: Vec<Duration> = wall.into_iter().map(median).collect();
    let cpu: Vec<Duration> = cpu.into_iter().map(median).collect();
    let rate = |d: Duration| items as f64 / d.as_secs_f64() / 1e6;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| concurrency | hand-written: wall (items/s) | host::queue: wall (items/s) | throughput host / hand-written | CPU time hand-written / host |"
    );
    println!("|---|---|---|---|---|");
    for (c, pair) in [(1, 0), (8, 2)] {
        let (b, h) = (wall[pair], wall[pair + 1]);
        let (bc, hc) = (cpu[pair], cpu[pair + 1]);
        println!(
            "| {c} | {:.1} ms ({:.2} M/s), CPU {:.1} ms | {:.1} ms ({:.2} M/s), CPU {:.1} ms | **{:.2}x** | {:.2}x |",
            ms(b),
            rate(b),
            ms(bc),
            ms(h),
            rate(h),
            ms(hc),
            b.as_secs_f64() / h.as_secs_f64(),
            bc.as_secs_f64() / hc.as_secs_f64(),
        );
    }
    println!("\n{items} items, medians of {reps} interleaved repetitions, {threads} runtime worker threads");
}
