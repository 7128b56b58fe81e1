//! One scenario for one implementation, in a fresh process: `host-bench <scenario> <impl> [--key value]…`.
//! Prints one line: `RESULT\tkey=value\t…`.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::time::Duration;

use tokio::time::{Instant, sleep, timeout};

use crate::imps::{self, Imp};
use crate::probe::{self, GROUP_API, GROUP_MACRO, Lateness, Probe, Usage, rss_bytes};

/// `--key value` options.
pub struct Opts(BTreeMap<String, String>);

impl Opts {
    pub fn parse(args: &[String]) -> Opts {
        let mut map = BTreeMap::new();
        let mut it = args.iter();
        while let Some(k) = it.next() {
            let key = k
                .strip_prefix("--")
                .unwrap_or_else(|| panic!("expected --key, got {k}"));
            let v = it.next().unwrap_or_else(|| panic!("--{key} needs a value"));
            map.insert(key.to_owned(), v.clone());
        }
        Opts(map)
    }

    fn num(&self, key: &str, default: u64) -> u64 {
        self.0.get(key).map_or(default, |v| {
            v.parse().unwrap_or_else(|_| panic!("--{key}: not a number"))
        })
    }

    fn ms(&self, key: &str, default: u64) -> Duration {
        Duration::from_millis(self.num(key, default))
    }
}

/// The result line.
struct Out(Vec<(String, String)>);

impl Out {
    fn new(scenario: &str, imp: Imp) -> Self {
        Out::labelled(scenario, imp.name())
    }
    fn labelled(scenario: &str, imp: &str) -> Self {
        let mut o = Out(Vec::new());
        o.put("scenario", scenario);
        o.put("impl", imp);
        o
    }
    fn put(&mut self, k: &str, v: impl Display) {
        self.0.push((k.to_owned(), v.to_string().replace(['\t', '\n'], " ")));
    }
    fn ms(&mut self, k: &str, d: Duration) {
        self.put(k, format!("{:.3}", d.as_secs_f64() * 1e3));
    }
    fn lateness(&mut self, prefix: &str, l: Lateness) {
        self.put(&format!("{prefix}lat_n"), l.n);
        self.put(&format!("{prefix}p50_us"), format!("{:.1}", l.p50_us));
        self.put(&format!("{prefix}p99_us"), format!("{:.1}", l.p99_us));
        self.put(&format!("{prefix}max_us"), format!("{:.1}", l.max_us));
    }
    fn print(self) {
        let mut line = String::from("RESULT");
        for (k, v) in self.0 {
            line.push('\t');
            line.push_str(&k);
            line.push('=');
            line.push_str(&v);
        }
        println!("{line}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

pub fn run(scenario: &str, imp: Imp, opts: &Opts) {
    let out = match scenario {
        "a" => steady(imp, opts),
        "b" => idle(imp, opts),
        "c" => start_stop(imp, opts),
        "d" => scale(imp, opts),
        "e" => hosted(Some(imp), opts),
        other => panic!("unknown scenario {other}"),
    };
    out.print();
}

/// Scenario (e) for its floor (`floor.rs`).
pub fn run_floor(opts: &Opts) {
    hosted(None, opts).print();
}

/// Waits until every expected job has run once; `None` after `limit`.
async fn all_ran(p: &'static Probe, limit: Duration) -> Option<Instant> {
    if p.expect == 0 {
        return Some(Instant::now());
    }
    match timeout(limit, p.all_ran.notified()).await {
        Ok(()) => p.all_ran_at(),
        Err(_) => p.all_ran_at(),
    }
}

/// (a) `n` jobs every `period` for `secs` after a warm-up: ticks, CPU per tick, lateness.
fn steady(imp: Imp, o: &Opts) -> Out {
    let n = o.num("n", 1000) as usize;
    let period = imp.effective_period(o.ms("period-ms", 100));
    let warmup = o.ms("warmup-ms", 1000);
    let window = o.ms("window-ms", 10_000);
    let p = probe::init(n, n);
    let mut out = Out::new("a", imp);
    runtime().block_on(async {
        let names = imps::names(imp, n);
        let started = imps::start(
            imp,
            p,
            n,
            period,
            o.num("macro", 1) == 1,
            o.num("spread", 1) == 1,
            names,
        )
        .await;
        let mut running = started.running;
        running.drive(sleep(warmup)).await;
        let (t0, c0, w0) = (p.total_ticks(), Usage::now(), Instant::now());
        p.recording.store(true, std::sync::atomic::Ordering::Relaxed);
        running.drive(sleep(window)).await;
        p.recording.store(false, std::sync::atomic::Ordering::Relaxed);
        let (t1, c1, w1) = (p.total_ticks(), Usage::now(), Instant::now());
        running.request_stop().await;
        let (err, _) = running.finish().await;
        let elapsed = w1 - w0;
        let ticks = t1 - t0;
        let expected = n as f64 * elapsed.as_secs_f64() / period.as_secs_f64();
        let usage = c1.since(&c0);
        let cpu = usage.cpu();
        let n_api = n - started.macro_jobs;
        out.put("n", n);
        out.ms("period_ms", period);
        out.ms("window_ms", elapsed);
        out.put("ticks", ticks);
        out.put("expected", format!("{expected:.0}"));
        out.put("lost", p.lost_ticks(0..n_api, period));
        out.ms("cpu_ms", cpu);
        out.put(
            "cpu_per_tick_us",
            format!("{:.3}", cpu.as_secs_f64() * 1e6 / ticks.max(1) as f64),
        );
        out.ms("user_ms", usage.user);
        out.ms("sys_ms", usage.sys);
        out.put(
            "csw_per_tick",
            format!("{:.4}", (usage.vcsw + usage.ivcsw) as f64 / ticks.max(1) as f64),
        );
        out.put(
            "cpu_pct",
            format!("{:.2}", cpu.as_secs_f64() * 100.0 / elapsed.as_secs_f64()),
        );
        out.lateness("", p.lateness(GROUP_API));
        out.put("grid_slots", p.grid_slots(period));
        out.put("jobs_ran", p.jobs_ran());
        out.put("macro_jobs", started.macro_jobs);
        if started.macro_jobs > 0 {
            out.put("macro_lost", p.lost_ticks(n_api..n, period));
            out.put(
                "macro_ticks",
                p.jobs[n_api..n]
                    .iter()
                    .map(|j| j.count.load(std::sync::atomic::Ordering::Relaxed))
                    .sum::<u64>(),
            );
            out.lateness("macro_", p.lateness(GROUP_MACRO));
        }
        out.put("error", err.unwrap_or_default());
    });
    out
}

/// (b) `n` idle jobs (`period` 60 s, first run at start): RSS and idle CPU over `secs`.
fn idle(imp: Imp, o: &Opts) -> Out {
    let n = o.num("n", 10_000) as usize;
    let slots = (o.num("slots", n as u64) as usize).max(n);
    let period = imp.effective_period(o.ms("period-ms", 60_000));
    let secs = o.ms("idle-ms", 5000);
    let p = probe::init(slots, n);
    let mut out = Out::new("b", imp);
    runtime().block_on(async {
        sleep(Duration::from_millis(50)).await;
        let rss_pre = rss_bytes();
        // Counted in the memory per job, not in the time (as in (e)).
        let names = imps::names(imp, n);
        let t0 = Instant::now();
        let started = imps::start(imp, p, n, period, false, false, names).await;
        let mut running = started.running;
        let ran = if imp.first_tick_at_start() {
            running.drive(all_ran(p, Duration::from_secs(60))).await
        } else {
            None
        };
        running.drive(sleep(Duration::from_millis(200))).await;
        let (c0, w0) = (Usage::now(), Instant::now());
        running.drive(sleep(secs)).await;
        let (c1, w1) = (Usage::now(), Instant::now());
        let usage = c1.since(&c0);
        let rss = rss_bytes();
        let (heap_used, heap_free, heap_mmap) = probe::heap();
        out.put("heap_used", heap_used);
        out.put("heap_free", heap_free);
        out.put("heap_mmap", heap_mmap);
        running.request_stop().await;
        let (err, _) = running.finish().await;
        out.put("n", n);
        out.put("rss_pre", rss_pre);
        out.put("rss", rss);
        out.put("jobs_ran", p.jobs_ran());
        if let Some(at) = ran {
            out.ms("all_ran_ms", at - t0);
        }
        out.ms("idle_window_ms", w1 - w0);
        out.ms("idle_cpu_ms", usage.cpu());
        out.put(
            "idle_cpu_ms_per_s",
            format!("{:.4}", usage.cpu().as_secs_f64() * 1e3 / (w1 - w0).as_secs_f64()),
        );
        out.put("idle_wakeups", usage.vcsw + usage.ivcsw);
        out.put("error", err.unwrap_or_default());
    });
    out
}

/// (c) `n` jobs, first run at start: time until all ran once, shutdown time, what is left after.
fn start_stop(imp: Imp, o: &Opts) -> Out {
    let n = o.num("n", 10_000) as usize;
    let period = imp.effective_period(o.ms("period-ms", 100));
    let run_for = o.ms("run-ms", 1000);
    let grace = o.ms("grace-ms", 1500);
    let p = probe::init(n, n);
    p.recording.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut out = Out::new("c", imp);
    runtime().block_on(async {
        let alive0 = alive_tasks();
        // Counted in the memory per job, not in the time (as in (e)).
        let names = imps::names(imp, n);
        let t0 = Instant::now();
        let started = imps::start(imp, p, n, period, false, false, names).await;
        let t_started = Instant::now();
        // host: when its start loop is through (every service spawned).
        let phase_started = match &started.running {
            imps::Running::Host { handle, .. } => {
                let handle = handle.clone();
                Some(tokio::spawn(async move {
                    handle.wait_for(host::Phase::Started).await;
                    Instant::now()
                }))
            }
            _ => None,
        };
        let mut running = started.running;
        let ran = running.drive(all_ran(p, Duration::from_secs(120))).await;
        let all_started = match phase_started {
            Some(h) => running.drive(h).await.ok(),
            None => None,
        };
        p.recording.store(false, std::sync::atomic::Ordering::Relaxed);
        running.drive(sleep(run_for)).await;
        let ticks_before = p.total_ticks();
        let ts = Instant::now();
        running.request_stop().await;
        p.phase.store(1, std::sync::atomic::Ordering::SeqCst);
        let t_req = Instant::now();
        let (err, finished_at) = running.finish().await;
        p.phase.store(2, std::sync::atomic::Ordering::SeqCst);
        let t_done = finished_at;
        // A task that has just returned its output is still counted until its last reference is
        // released (tokio's metric), which may happen on the other worker a moment later.
        sleep(Duration::from_millis(1)).await;
        let alive_done = alive_tasks().saturating_sub(alive0);
        let live_done = p.live.load(std::sync::atomic::Ordering::Relaxed);
        sleep(grace).await;
        let alive_grace = alive_tasks().saturating_sub(alive0);
        let live_grace = p.live.load(std::sync::atomic::Ordering::Relaxed);
        out.put("n", n);
        out.ms("period_ms", period);
        out.ms("start_call_ms", t_started - t0);
        if let Some(at) = all_started {
            out.ms("start_loop_done_ms", at - t0);
        }
        out.put("jobs_ran", p.jobs_ran());
        match ran {
            Some(at) => out.ms("all_ran_ms", at - t0),
            None => out.put("all_ran_ms", "timeout"),
        }
        out.lateness("first_", p.lateness(GROUP_API));
        out.put("ticks_before_stop", ticks_before);
        out.ms("stop_request_ms", t_req - ts);
        out.ms("shutdown_ms", t_done - ts);
        out.put("tasks_alive_done", alive_done);
        out.put("tasks_alive_grace", alive_grace);
        out.put("jobs_alive_done", live_done);
        out.put("jobs_alive_grace", live_grace);
        out.put(
            "ticks_after_request",
            p.after_request.load(std::sync::atomic::Ordering::Relaxed),
        );
        out.put(
            "ticks_after_done",
            p.after_done.load(std::sync::atomic::Ordering::Relaxed),
        );
        out.put("lost", p.lost_ticks(0..n, period));
        out.put("error", err.unwrap_or_default());
    });
    out
}

/// (d) `n` jobs every 60 s: RSS and the lateness of the first runs.
fn scale(imp: Imp, o: &Opts) -> Out {
    let n = o.num("n", 100_000) as usize;
    let period = imp.effective_period(o.ms("period-ms", 60_000));
    let limit = o.ms("limit-ms", 120_000);
    let p = probe::init(n, n);
    p.recording.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut out = Out::new("d", imp);
    runtime().block_on(async {
        sleep(Duration::from_millis(50)).await;
        let rss_pre = rss_bytes();
        // Counted in the memory per job, not in the time (as in (e)).
        let names = imps::names(imp, n);
        let t0 = Instant::now();
        let started = imps::start(imp, p, n, period, false, false, names).await;
        let t_started = Instant::now();
        let mut running = started.running;
        let ran = if imp.first_tick_at_start() {
            running.drive(all_ran(p, limit)).await
        } else {
            None
        };
        let rss = rss_bytes();
        let ts = Instant::now();
        running.request_stop().await;
        let (err, finished_at) = running.finish().await;
        let t_done = finished_at;
        out.put("n", n);
        out.put("rss_pre", rss_pre);
        out.put("rss", rss);
        out.put("rss_per_job", (rss.saturating_sub(rss_pre)) / n.max(1) as u64);
        out.ms("start_call_ms", t_started - t0);
        out.put("jobs_ran", p.jobs_ran());
        match ran {
            Some(at) => out.ms("all_ran_ms", at - t0),
            None => out.put("all_ran_ms", if imp.first_tick_at_start() { "timeout" } else { "n/a" }),
        }
        out.lateness("first_", p.lateness(GROUP_API));
        out.ms("shutdown_ms", t_done - ts);
        out.put("error", err.unwrap_or_default());
    });
    out
}

/// (e) `n` long-running bodies (hosted services without hooks, or spawned by hand; `None`: the
/// floor of `floor.rs`): the time until every body runs, and the shutdown until the caller resumes.
fn hosted(imp: Option<Imp>, o: &Opts) -> Out {
    let n = o.num("n", 100_000) as usize;
    let p = probe::init(n, n);
    let mut out = Out::labelled("e", imp.map_or("floor", Imp::name));
    runtime().block_on(async {
        sleep(Duration::from_millis(50)).await;
        let rss_pre = rss_bytes();
        // Counted in the memory per service, not in the time.
        let names = match imp {
            Some(Imp::Host) | None => (0..n).map(|i| std::sync::Arc::from(format!("svc-{i}"))).collect(),
            _ => Vec::new(),
        };
        let t0 = Instant::now();
        let mut running = match imp {
            Some(imp) => imps::start_hosted(imp, p, n, names),
            None => imps::start_floor(p, names),
        };
        let t_started = Instant::now();
        let ran = running.drive(all_ran(p, Duration::from_secs(120))).await;
        let rss = rss_bytes();
        let ts = Instant::now();
        running.request_stop().await;
        let (report_ms, t_done) = match running {
            running @ imps::Running::Host { .. } => {
                let result = running.finish_host().await;
                let at = Instant::now();
                match result {
                    Ok(report) => (Some(report.shutdown), at),
                    Err(e) => panic!("host failed: {e}"),
                }
            }
            other => match other.finish().await {
                (Some(e), _) => panic!("{e}"),
                (None, at) => (None, at),
            },
        };
        out.put("n", n);
        out.put("rss_per_job", (rss.saturating_sub(rss_pre)) / n.max(1) as u64);
        out.ms("start_call_ms", t_started - t0);
        out.put("jobs_ran", p.jobs_ran());
        match ran {
            Some(at) => out.ms("all_ran_ms", at - t0),
            None => out.put("all_ran_ms", "timeout"),
        }
        out.ms("shutdown_ms", t_done - ts);
        if let Some(d) = report_ms {
            out.ms("report_shutdown_ms", d);
        }
    });
    out
}
