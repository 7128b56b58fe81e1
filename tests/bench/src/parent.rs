//! `host-bench all`: runs every cell in a fresh child process, repetitions interleaved across
//! implementations, and prints Markdown tables of the medians with host's ratio to the baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::imps::Imp;

type Res = BTreeMap<String, String>;
/// (scenario, variant, implementation) → the result of each repetition.
type Results = BTreeMap<(String, String, &'static str), Vec<Result<Res, String>>>;

/// One cell: a scenario variant for one implementation.
#[derive(Clone)]
struct Cell {
    scenario: &'static str,
    /// Distinguishes variants of one scenario (aligned/spread, 0/10 000 jobs, 100 k/1 M jobs).
    variant: String,
    imp: Imp,
    args: Vec<String>,
    reps: usize,
    limit: Duration,
}

struct Config {
    quick: bool,
    reps: usize,
    scenarios: Vec<String>,
    impls: Vec<Imp>,
    raw: Option<String>,
}

fn parse(args: &[String]) -> Config {
    let mut c = Config {
        quick: false,
        reps: 3,
        scenarios: ["a", "b", "c", "d"].map(String::from).to_vec(),
        impls: Imp::ALL.to_vec(),
        raw: None,
    };
    let mut reps = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| crate::usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--quick" => c.quick = true,
            "--reps" => reps = Some(val().parse().unwrap_or_else(|_| crate::usage("--reps: a number"))),
            "--scenarios" => c.scenarios = val().split(',').map(String::from).collect(),
            "--impls" => {
                c.impls = val()
                    .split(',')
                    .map(|s| Imp::parse(s).unwrap_or_else(|| crate::usage(&format!("unknown implementation {s}"))))
                    .collect()
            }
            "--raw" => c.raw = Some(val()),
            other => crate::usage(&format!("unknown option {other}")),
        }
    }
    c.reps = reps.unwrap_or(if c.quick { 1 } else { 3 });
    c
}

fn args(pairs: &[(&str, u64)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| [format!("--{k}"), v.to_string()])
        .collect()
}

fn cells(c: &Config) -> Vec<Cell> {
    let q = c.quick;
    let mut cells = Vec::new();
    let mut add = |scenario: &'static str, variant: &str, imp: Imp, a: Vec<String>, reps: usize, limit: u64| {
        if c.impls.contains(&imp) && c.scenarios.iter().any(|s| s == scenario) {
            cells.push(Cell {
                scenario,
                variant: variant.to_owned(),
                imp,
                args: a,
                reps,
                limit: Duration::from_secs(limit),
            });
        }
    };
    let window = if q { 3_000 } else { 10_000 };
    for imp in Imp::ALL {
        add(
            "a",
            "aligned",
            imp,
            args(&[
                ("n", 1000),
                ("period-ms", 100),
                ("warmup-ms", 1000),
                ("window-ms", window),
                ("spread", 0),
            ]),
            c.reps,
            60,
        );
    }
    for imp in [Imp::Baseline, Imp::Host, Imp::Tgs] {
        add(
            "a",
            "spread",
            imp,
            args(&[
                ("n", 1000),
                ("period-ms", 100),
                ("warmup-ms", 1000),
                ("window-ms", window),
                ("spread", 1),
            ]),
            c.reps,
            60,
        );
    }
    let idle = if q { 2_000 } else { 5_000 };
    for imp in Imp::ALL {
        add(
            "b",
            "10000",
            imp,
            args(&[("n", 10_000), ("period-ms", 60_000), ("idle-ms", idle)]),
            c.reps,
            120,
        );
        add(
            "b",
            "0",
            imp,
            args(&[("n", 0), ("slots", 10_000), ("period-ms", 60_000), ("idle-ms", 1_000)]),
            c.reps,
            60,
        );
    }
    for imp in Imp::ALL {
        add(
            "c",
            "10000",
            imp,
            args(&[("n", 10_000), ("period-ms", 100), ("run-ms", 1000), ("grace-ms", 1500)]),
            c.reps,
            180,
        );
    }
    for imp in [Imp::Baseline, Imp::Host, Imp::Tgs] {
        add(
            "d",
            "100000",
            imp,
            args(&[("n", 100_000), ("period-ms", 60_000)]),
            c.reps,
            180,
        );
        if !q {
            add(
                "d",
                "1000000",
                imp,
                args(&[("n", 1_000_000), ("period-ms", 60_000), ("limit-ms", 120_000)]),
                c.reps.min(2),
                300,
            );
        }
    }
    // tokio-cron-scheduler has no first tick at start; what scale costs it is its RSS.
    add(
        "d",
        "100000",
        Imp::Tcs,
        args(&[("n", 100_000), ("period-ms", 60_000)]),
        c.reps.min(1),
        180,
    );
    cells
}

/// Runs one child; `None` if it failed or ran out of time.
fn run_child(exe: &std::path::Path, cell: &Cell) -> Result<Res, String> {
    let mut child = Command::new(exe)
        .arg(cell.scenario)
        .arg(cell.imp.name())
        .args(&cell.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + cell.limit;
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timeout after {} s", cell.limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!("{status}: {}", err.lines().last().unwrap_or("")));
    }
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("RESULT\t"))
        .ok_or("no RESULT line")?;
    Ok(line
        .split('\t')
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

pub fn run(argv: &[String]) {
    let cfg = parse(argv);
    let exe = std::env::current_exe().expect("current exe");
    let cells = cells(&cfg);
    let started = Instant::now();
    // (scenario, variant, impl) -> results of each repetition
    let mut results: Results = BTreeMap::new();
    let mut raw = String::new();
    let max_reps = cells.iter().map(|c| c.reps).max().unwrap_or(0);
    for scenario in ["a", "b", "c", "d"] {
        for rep in 0..max_reps {
            // Interleave implementations, rotating the order each repetition so that drift in the
            // machine's load hits every implementation alike.
            let mut these: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.scenario == scenario && rep < c.reps)
                .collect();
            if !these.is_empty() {
                let k = rep % these.len();
                these.rotate_left(k);
            }
            for cell in these {
                eprint!(
                    "[{:>5.1}s] {} {:<8} {:<24} rep {}/{} … ",
                    started.elapsed().as_secs_f64(),
                    cell.scenario,
                    cell.variant,
                    cell.imp.name(),
                    rep + 1,
                    cell.reps
                );
                let r = run_child(&exe, cell);
                match &r {
                    Ok(res) => {
                        eprintln!("ok");
                        let _ = writeln!(
                            raw,
                            "{}\t{}\t{}",
                            cell.variant,
                            rep,
                            res.iter()
                                .map(|(k, v)| format!("{k}={v}"))
                                .collect::<Vec<_>>()
                                .join("\t")
                        );
                    }
                    Err(e) => eprintln!("FAILED: {e}"),
                }
                results
                    .entry((cell.scenario.to_owned(), cell.variant.clone(), cell.imp.name()))
                    .or_default()
                    .push(r);
            }
        }
    }
    if let Some(path) = &cfg.raw {
        std::fs::write(path, &raw).expect("write raw results");
    }
    let report = Report {
        results: &results,
        cfg: &cfg,
    };
    print!("{}", report.markdown(started.elapsed()));
}

struct Report<'a> {
    results: &'a Results,
    cfg: &'a Config,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

impl Report<'_> {
    fn runs(&self, s: &str, variant: &str, imp: Imp) -> Vec<&Res> {
        self.results
            .get(&(s.to_owned(), variant.to_owned(), imp.name()))
            .map(|v| v.iter().filter_map(|r| r.as_ref().ok()).collect())
            .unwrap_or_default()
    }

    fn failure(&self, s: &str, variant: &str, imp: Imp) -> Option<String> {
        let all = self.results.get(&(s.to_owned(), variant.to_owned(), imp.name()))?;
        if all.iter().any(|r| r.is_ok()) {
            return None;
        }
        all.iter().find_map(|r| r.as_ref().err().cloned())
    }

    /// Median of a numeric field over the repetitions.
    fn med(&self, s: &str, variant: &str, imp: Imp, key: &str) -> Option<f64> {
        median(
            self.runs(s, variant, imp)
                .iter()
                .filter_map(|r| r.get(key)?.parse::<f64>().ok())
                .collect(),
        )
    }

    fn ran(&self, s: &str, variant: &str, imp: Imp) -> bool {
        !self.runs(s, variant, imp).is_empty()
    }

    fn reps(&self, s: &str, variant: &str, imp: Imp) -> usize {
        self.runs(s, variant, imp).len()
    }

    fn markdown(&self, took: Duration) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "<!-- host-bench all{}: {} repetition(s) per cell, {:.0} s -->\n",
            if self.cfg.quick { " --quick" } else { "" },
            self.cfg.reps,
            took.as_secs_f64()
        );
        if self.cfg.scenarios.iter().any(|s| s == "a") {
            self.table_a(&mut md);
        }
        if self.cfg.scenarios.iter().any(|s| s == "b") {
            self.table_b(&mut md);
        }
        if self.cfg.scenarios.iter().any(|s| s == "c") {
            self.table_c(&mut md);
        }
        if self.cfg.scenarios.iter().any(|s| s == "d") {
            self.table_d(&mut md);
        }
        self.targets(&mut md);
        md
    }

    fn table_a(&self, md: &mut String) {
        for (variant, title) in [
            (
                "aligned",
                "every job's first run at start (the grids of all jobs coincide)",
            ),
            (
                "spread",
                "job i's grid offset by i/n of the period (services started at different times)",
            ),
        ] {
            let _ = writeln!(md, "### (a) 1 000 jobs × 100 ms, {title}\n");
            let _ = writeln!(
                md,
                "| implementation | period | reps | ticks / expected | lost ticks | CPU per tick (µs) | CPU (% of a core) | lateness p50 (ms) | p99 (ms) | max (ms) | timer slots per period |"
            );
            let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
            for imp in Imp::ALL {
                if !self.ran("a", variant, imp) {
                    if let Some(e) = self.failure("a", variant, imp) {
                        let _ = writeln!(md, "| {} | failed: {e} |||||||||", imp.name());
                    }
                    continue;
                }
                let m = |k: &str| self.med("a", variant, imp, k);
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} / {} | {} | {} | {} | {} | {} | {} | {} |",
                    imp.name(),
                    ms_text(m("period_ms")),
                    self.reps("a", variant, imp),
                    int(m("ticks")),
                    int(m("expected")),
                    int(m("lost")),
                    f(m("cpu_per_tick_us"), 3),
                    f(m("cpu_pct"), 2),
                    f(m("p50_us").map(|v| v / 1e3), 3),
                    f(m("p99_us").map(|v| v / 1e3), 3),
                    f(m("max_us").map(|v| v / 1e3), 3),
                    int(m("grid_slots")),
                );
            }
            if self.ran("a", variant, Imp::Host) && self.ran("a", variant, Imp::Baseline) {
                let h = |k: &str| self.med("a", variant, Imp::Host, k);
                let b = |k: &str| self.med("a", variant, Imp::Baseline, k);
                let _ = writeln!(
                    md,
                    "| **host ÷ baseline** | | | {} | | **{}** | {} | {} | {} | {} | |",
                    ratio(h("ticks"), b("ticks")),
                    ratio(h("cpu_per_tick_us"), b("cpu_per_tick_us")),
                    ratio(h("cpu_pct"), b("cpu_pct")),
                    ratio(h("p50_us"), b("p50_us")),
                    ratio(h("p99_us"), b("p99_us")),
                    ratio(h("max_us"), b("max_us")),
                );
                let _ = writeln!(
                    md,
                    "| **host − baseline** | | | | | {} µs | | {} ms | **{} ms** | {} ms | |",
                    diff(h("cpu_per_tick_us"), b("cpu_per_tick_us"), 3),
                    diff(h("p50_us").map(|v| v / 1e3), b("p50_us").map(|v| v / 1e3), 3),
                    diff(h("p99_us").map(|v| v / 1e3), b("p99_us").map(|v| v / 1e3), 3),
                    diff(h("max_us").map(|v| v / 1e3), b("max_us").map(|v| v / 1e3), 3),
                );
            }
            let macro_jobs = self.med("a", variant, Imp::Host, "macro_jobs").unwrap_or(0.0);
            if macro_jobs > 0.0 {
                let h = |k: &str| self.med("a", variant, Imp::Host, k);
                let _ = writeln!(
                    md,
                    "| host, its {} `#[host::periodic]` jobs (whole run) | | | {} ticks | {} | | | {} | {} | {} | |",
                    macro_jobs,
                    int(h("macro_ticks")),
                    int(h("macro_lost")),
                    f(h("macro_p50_us").map(|v| v / 1e3), 3),
                    f(h("macro_p99_us").map(|v| v / 1e3), 3),
                    f(h("macro_max_us").map(|v| v / 1e3), 3),
                );
            } else if self.ran("a", variant, Imp::Host) {
                let _ = writeln!(
                    md,
                    "| host, `#[host::periodic]` jobs | TODO: not measured, `#[host::periodic]` registered nothing in this build |||||||||"
                );
            }
            md.push('\n');
        }
    }

    fn table_b(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "### (b) 10 000 idle jobs (60 s period, first run at start), then idle\n"
        );
        let _ = writeln!(
            md,
            "| implementation | reps | RSS, 0 jobs (MiB) | RSS, 10 000 jobs (MiB) | RSS per job (bytes) | idle CPU, 10 000 jobs (ms per s) | idle CPU, 0 jobs (ms per s) | idle wake-ups (per s) | first runs seen |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        let per_job = |imp: Imp| -> Option<f64> {
            let full = self.med("b", "10000", imp, "rss")?;
            let empty = self.med("b", "0", imp, "rss")?;
            Some((full - empty) / 10_000.0)
        };
        for imp in Imp::ALL {
            if !self.ran("b", "10000", imp) {
                if let Some(e) = self.failure("b", "10000", imp) {
                    let _ = writeln!(md, "| {} | failed: {e} ||||||||", imp.name());
                }
                continue;
            }
            let m = |v: &str, k: &str| self.med("b", v, imp, k);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                imp.name(),
                self.reps("b", "10000", imp),
                f(m("0", "rss").map(mib), 1),
                f(m("10000", "rss").map(mib), 1),
                int(per_job(imp)),
                f(m("10000", "idle_cpu_ms_per_s"), 3),
                f(m("0", "idle_cpu_ms_per_s"), 3),
                f(
                    m("10000", "idle_wakeups")
                        .zip(m("10000", "idle_window_ms"))
                        .map(|(w, ms)| w * 1e3 / ms),
                    1
                ),
                int(m("10000", "jobs_ran")),
            );
        }
        if self.ran("b", "10000", Imp::Host) && self.ran("b", "10000", Imp::Baseline) {
            let _ = writeln!(
                md,
                "| **host ÷ baseline** | | | {} | **{}** | {} | | | |",
                ratio(
                    self.med("b", "10000", Imp::Host, "rss"),
                    self.med("b", "10000", Imp::Baseline, "rss")
                ),
                ratio(per_job(Imp::Host), per_job(Imp::Baseline)),
                ratio(
                    self.med("b", "10000", Imp::Host, "idle_cpu_ms_per_s"),
                    self.med("b", "10000", Imp::Baseline, "idle_cpu_ms_per_s")
                ),
            );
        }
        md.push('\n');
    }

    fn table_c(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "### (c) 10 000 jobs, first run at start; stop 1 s after every job has run once\n"
        );
        let _ = writeln!(
            md,
            "| implementation | period | reps | start call (ms) | start loop done (ms) | all ran once (ms) | first-run lateness p99 (ms) | stop request returns (ms) | shutdown complete (ms) | tasks left at completion / 1.5 s later | job state left at completion / 1.5 s later | ticks after the request returned | ticks after completion | lost ticks |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for imp in Imp::ALL {
            if !self.ran("c", "10000", imp) {
                if let Some(e) = self.failure("c", "10000", imp) {
                    let _ = writeln!(md, "| {} | failed: {e} |||||||||||||", imp.name());
                }
                continue;
            }
            let m = |k: &str| self.med("c", "10000", imp, k);
            // Worst case over the repetitions for the counts that must be zero.
            let worst = |k: &str| {
                self.runs("c", "10000", imp)
                    .iter()
                    .filter_map(|r| r.get(k)?.parse::<f64>().ok())
                    .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.max(v))))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} | {} |",
                imp.name(),
                ms_text(m("period_ms")),
                self.reps("c", "10000", imp),
                f(m("start_call_ms"), 1),
                f(m("start_loop_done_ms"), 1),
                f(m("all_ran_ms"), 1),
                f(m("first_p99_us").map(|v| v / 1e3), 2),
                f(m("stop_request_ms"), 3),
                f(m("shutdown_ms"), 1),
                int(worst("tasks_alive_done")),
                int(worst("tasks_alive_grace")),
                int(worst("jobs_alive_done")),
                int(worst("jobs_alive_grace")),
                int(worst("ticks_after_request")),
                int(worst("ticks_after_done")),
                int(worst("lost")),
            );
        }
        if self.ran("c", "10000", Imp::Host) && self.ran("c", "10000", Imp::Baseline) {
            let h = |k: &str| self.med("c", "10000", Imp::Host, k);
            let b = |k: &str| self.med("c", "10000", Imp::Baseline, k);
            let _ = writeln!(
                md,
                "| **host ÷ baseline** | | | {} | | **{}** | {} | | **{}** | | | | | |",
                ratio(h("start_call_ms"), b("start_call_ms")),
                ratio(h("all_ran_ms"), b("all_ran_ms")),
                ratio(h("first_p99_us"), b("first_p99_us")),
                ratio(h("shutdown_ms"), b("shutdown_ms")),
            );
        }
        md.push('\n');
    }

    fn table_d(&self, md: &mut String) {
        let _ = writeln!(md, "### (d) 100 000 and 1 000 000 jobs every 60 s\n");
        let _ = writeln!(
            md,
            "| implementation | jobs | reps | start call (s) | all ran once (s) | RSS (MiB) | RSS per job (bytes) | first-run lateness p50 (ms) | p99 (ms) | max (ms) | shutdown (ms) |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
        for variant in ["100000", "1000000"] {
            for imp in Imp::ALL {
                if !self.ran("d", variant, imp) {
                    if let Some(e) = self.failure("d", variant, imp) {
                        let _ = writeln!(md, "| {} | {} | failed: {e} |||||||||", imp.name(), thousands(variant));
                    }
                    continue;
                }
                let m = |k: &str| self.med("d", variant, imp, k);
                let all_ran = if imp.first_tick_at_start() {
                    f(m("all_ran_ms").map(|v| v / 1e3), 2)
                } else {
                    "n/a (first run after 60 s)".to_owned()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    imp.name(),
                    thousands(variant),
                    self.reps("d", variant, imp),
                    f(m("start_call_ms").map(|v| v / 1e3), 2),
                    all_ran,
                    f(m("rss").map(mib), 0),
                    int(m("rss_per_job")),
                    f(m("first_p50_us").map(|v| v / 1e3), 1),
                    f(m("first_p99_us").map(|v| v / 1e3), 1),
                    f(m("first_max_us").map(|v| v / 1e3), 1),
                    f(m("shutdown_ms"), 0),
                );
            }
            if self.ran("d", variant, Imp::Host) && self.ran("d", variant, Imp::Baseline) {
                let h = |k: &str| self.med("d", variant, Imp::Host, k);
                let b = |k: &str| self.med("d", variant, Imp::Baseline, k);
                let _ = writeln!(
                    md,
                    "| **host ÷ baseline** | {} | | {} | {} | {} | {} | {} | {} | {} | {} |",
                    thousands(variant),
                    ratio(h("start_call_ms"), b("start_call_ms")),
                    ratio(h("all_ran_ms"), b("all_ran_ms")),
                    ratio(h("rss"), b("rss")),
                    ratio(h("rss_per_job"), b("rss_per_job")),
                    ratio(h("first_p50_us"), b("first_p50_us")),
                    ratio(h("first_p99_us"), b("first_p99_us")),
                    ratio(h("first_max_us"), b("first_max_us")),
                    ratio(h("shutdown_ms"), b("shutdown_ms")),
                );
            }
        }
        md.push('\n');
    }

    fn targets(&self, md: &mut String) {
        let _ = writeln!(md, "### Targets for host (medians of this run)\n");
        let verdict = |ok: Option<bool>| match ok {
            Some(true) => "**met**",
            Some(false) => "**not met**",
            None => "not measured",
        };
        let ratio_line = |md: &mut String, label: &str, r: Option<f64>, limit: f64| {
            let shown = r.map_or("–".into(), |r| format!("{r:.2}×"));
            let _ = writeln!(
                md,
                "- {label} ≤ {limit:.2}× baseline: {} ({shown})",
                verdict(r.map(|r| r <= limit))
            );
        };
        let (h, b) = (Imp::Host, Imp::Baseline);
        for variant in ["aligned", "spread"] {
            let r = ratio_f(
                self.med("a", variant, h, "cpu_per_tick_us"),
                self.med("a", variant, b, "cpu_per_tick_us"),
            );
            ratio_line(md, &format!("(a, {variant}) CPU per tick"), r, 1.10);
            let d = self
                .med("a", variant, h, "p99_us")
                .zip(self.med("a", variant, b, "p99_us"))
                .map(|(h, b)| (h - b) / 1e3);
            let _ = writeln!(
                md,
                "- (a, {variant}) lateness p99 ≤ baseline + 0.25 ms: {} ({})",
                verdict(d.map(|d| d <= 0.25)),
                d.map_or("–".into(), |d| format!("{d:+.3} ms"))
            );
        }
        let per_job = |imp: Imp| -> Option<f64> {
            Some((self.med("b", "10000", imp, "rss")? - self.med("b", "0", imp, "rss")?) / 10_000.0)
        };
        let r = ratio_f(per_job(h), per_job(b));
        ratio_line(md, "(b) RSS per idle job", r, 1.25);
        let r = ratio_f(
            self.med("c", "10000", h, "all_ran_ms"),
            self.med("c", "10000", b, "all_ran_ms"),
        );
        ratio_line(md, "(c) time until all ran once", r, 1.5);
        let r = ratio_f(
            self.med("c", "10000", h, "shutdown_ms"),
            self.med("c", "10000", b, "shutdown_ms"),
        );
        ratio_line(md, "(c) shutdown", r, 2.0);
        let worst = |s: &str, v: &str, k: &str| -> Option<f64> {
            self.runs(s, v, h)
                .iter()
                .filter_map(|r| r.get(k)?.parse::<f64>().ok())
                .fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))))
        };
        let left = worst("c", "10000", "tasks_alive_done")
            .zip(worst("c", "10000", "jobs_alive_done"))
            .map(|(a, b)| a + b);
        let _ = writeln!(
            md,
            "- (c) 0 tasks left after shutdown: {} ({} in the worst repetition)",
            verdict(left.map(|l| l == 0.0)),
            int(left)
        );
        let after = worst("c", "10000", "ticks_after_done")
            .zip(worst("c", "10000", "ticks_after_request"))
            .map(|(a, b)| a + b);
        let _ = writeln!(
            md,
            "- (c) 0 ticks after shutdown: {} ({} in the worst repetition)",
            verdict(after.map(|l| l == 0.0)),
            int(after)
        );
        let lost = [("a", "aligned"), ("a", "spread"), ("c", "10000")]
            .iter()
            .filter_map(|(s, v)| worst(s, v, "lost"))
            .reduce(f64::max);
        let _ = writeln!(
            md,
            "- (a, c) 0 lost ticks: {} ({} in the worst repetition)",
            verdict(lost.map(|l| l == 0.0)),
            int(lost)
        );
        md.push('\n');
    }
}

fn mib(b: f64) -> f64 {
    b / (1024.0 * 1024.0)
}

fn f(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn int(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.0}", v))
}

fn ms_text(v: Option<f64>) -> String {
    match v {
        Some(ms) if ms >= 1000.0 => format!("{} s", ms / 1000.0),
        Some(ms) => format!("{ms} ms"),
        None => "–".into(),
    }
}

fn thousands(n: &str) -> String {
    let mut out = String::new();
    for (i, c) in n.chars().enumerate() {
        if i > 0 && (n.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn ratio_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    let (a, b) = (a?, b?);
    (b != 0.0).then(|| a / b)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    ratio_f(a, b).map_or("–".into(), |r| format!("{r:.2}×"))
}

fn diff(a: Option<f64>, b: Option<f64>, digits: usize) -> String {
    a.zip(b).map_or("–".into(), |(a, b)| format!("{:+.digits$}", a - b))
}
