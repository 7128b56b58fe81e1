//! What every job does on each tick, identical for every implementation: bump its counter, note
//! the due instant, and (while recording) put its lateness into a per-thread histogram.
//!
//! Everything is preallocated before the implementation under test starts, so the harness adds the
//! same fixed cost to every implementation and nothing per tick but a few relaxed atomics.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU8, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Lateness buckets: 1 µs wide below 65.536 ms, then 1 ms wide up to ~65 s, then one overflow.
const FINE: usize = 1 << 16;
const COARSE: usize = 1 << 16;
const BUCKETS: usize = FINE + COARSE + 1;

/// Lateness groups: the jobs built through the API, and the few built by `#[host::periodic]`.
pub const GROUPS: usize = 2;
pub const GROUP_API: usize = 0;
pub const GROUP_MACRO: usize = 1;

/// One thread's histograms. Only that thread writes; the harness reads after recording stops.
pub struct Hist {
    buckets: Box<[AtomicU64]>,
    max_ns: [AtomicU64; GROUPS],
}

impl Hist {
    fn new() -> Self {
        // Zeroed memory: pages are only touched for the buckets actually hit.
        let zeroed: Vec<u64> = vec![0; BUCKETS * GROUPS];
        let buckets: Box<[u64]> = zeroed.into_boxed_slice();
        // SAFETY: AtomicU64 has the same size and alignment as u64.
        let buckets = unsafe { Box::from_raw(Box::into_raw(buckets) as *mut [AtomicU64]) };
        Hist {
            buckets,
            max_ns: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    #[inline]
    fn record(&self, group: usize, ns: u64) {
        let us = ns / 1_000;
        let idx = if us < FINE as u64 {
            us as usize
        } else {
            FINE + ((us / 1_000) as usize).min(COARSE)
        };
        let b = &self.buckets[group * BUCKETS + idx];
        // Single writer: a load and a store, no locked instruction.
        b.store(b.load(Relaxed) + 1, Relaxed);
        let m = &self.max_ns[group];
        if ns > m.load(Relaxed) {
            m.store(ns, Relaxed);
        }
    }
}

/// Upper bound, in nanoseconds, of bucket `idx`.
fn bucket_upper_ns(idx: usize) -> u64 {
    if idx < FINE {
        (idx as u64 + 1) * 1_000
    } else {
        ((idx - FINE) as u64 + 1) * 1_000_000
    }
}

thread_local! {
    static LOCAL: OnceCell<Arc<Hist>> = const { OnceCell::new() };
}

pub struct JobStat {
    pub count: AtomicU64,
    /// Due instant of the first / latest run, as nanoseconds since the probe's epoch, plus one.
    pub first_due: AtomicU64,
    pub last_due: AtomicU64,
}

/// Lateness percentiles, in microseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lateness {
    pub n: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

pub struct Probe {
    pub epoch: Instant,
    pub jobs: Box<[JobStat]>,
    /// Jobs that must run once before `all_ran` fires.
    pub expect: usize,
    first_runs: AtomicUsize,
    /// Nanoseconds since `epoch` at which the last of the `expect` jobs ran for the first time.
    all_ran_ns: AtomicU64,
    pub all_ran: Notify,
    pub recording: AtomicBool,
    /// 0: running; 1: the stop request has returned; 2: the implementation reported it has stopped.
    pub phase: AtomicU8,
    pub after_request: AtomicU64,
    pub after_done: AtomicU64,
    /// Job state alive (guards held by each job's task or closure).
    pub live: AtomicIsize,
    hists: Mutex<Vec<Arc<Hist>>>,
}

static PROBE: OnceLock<Probe> = OnceLock::new();

/// Creates the process's probe with room for `slots` jobs, of which `expect` will run.
pub fn init(slots: usize, expect: usize) -> &'static Probe {
    let jobs = (0..slots)
        .map(|_| JobStat {
            count: AtomicU64::new(0),
            first_due: AtomicU64::new(0),
            last_due: AtomicU64::new(0),
        })
        .collect();
    let p = Probe {
        epoch: Instant::now(),
        jobs,
        expect,
        first_runs: AtomicUsize::new(0),
        all_ran_ns: AtomicU64::new(0),
        all_ran: Notify::new(),
        recording: AtomicBool::new(false),
        phase: AtomicU8::new(0),
        after_request: AtomicU64::new(0),
        after_done: AtomicU64::new(0),
        live: AtomicIsize::new(0),
        hists: Mutex::new(Vec::new()),
    };
    if PROBE.set(p).is_err() {
        panic!("probe initialised twice");
    }
    probe()
}

pub fn probe() -> &'static Probe {
    PROBE.get().expect("probe not initialised")
}

/// Held by each job's task (or closure); counts job state still alive.
pub struct Guard(&'static Probe);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Relaxed);
    }
}

impl Probe {
    pub fn guard(&'static self) -> Guard {
        self.live.fetch_add(1, Relaxed);
        Guard(self)
    }

    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    /// One run of job `job` that was due at `due`.
    #[inline]
    pub fn tick(&self, job: usize, group: usize, due: Instant) {
        let now = Instant::now();
        let st = &self.jobs[job];
        let due_ns = self.ns(due) + 1;
        let prev = st.count.fetch_add(1, Relaxed);
        st.last_due.store(due_ns, Relaxed);
        if prev == 0 {
            st.first_due.store(due_ns, Relaxed);
            self.first_run(now);
        }
        if self.recording.load(Relaxed) {
            let late = now.saturating_duration_since(due).as_nanos() as u64;
            LOCAL.with(|l| {
                l.get_or_init(|| {
                    let h = Arc::new(Hist::new());
                    self.hists.lock().unwrap().push(h.clone());
                    h
                })
                .record(group, late)
            });
        }
        match self.phase.load(Relaxed) {
            0 => {}
            1 => {
                self.after_request.fetch_add(1, Relaxed);
            }
            _ => {
                self.after_request.fetch_add(1, Relaxed);
                self.after_done.fetch_add(1, Relaxed);
            }
        }
    }

    /// For tokio-cron-scheduler, which does not tell a run when it was due: its due instants are
    /// whole seconds of the wall clock (next_tick is stored as a Unix timestamp in seconds), so the
    /// due instant is the start of the current wall-clock second (exact while a run is < 1 s late).
    pub fn tick_wall(&self, job: usize) {
        let now_i = Instant::now();
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let into_second = Duration::from_nanos(u64::from(since.subsec_nanos()));
        self.tick(job, GROUP_API, now_i.checked_sub(into_second).unwrap_or(now_i));
    }

    #[cold]
    fn first_run(&self, now: Instant) {
        if self.first_runs.fetch_add(1, AcqRel) + 1 == self.expect {
            self.all_ran_ns.store(self.ns(now), Release);
            self.all_ran.notify_one();
        }
    }

    pub fn jobs_ran(&self) -> usize {
        self.first_runs.load(Acquire)
    }

    /// When every expected job had run once, since the epoch.
    pub fn all_ran_at(&self) -> Option<Instant> {
        match self.all_ran_ns.load(Acquire) {
            0 if self.first_runs.load(Acquire) < self.expect => None,
            ns => Some(self.epoch + Duration::from_nanos(ns)),
        }
    }

    pub fn total_ticks(&self) -> u64 {
        self.jobs.iter().map(|j| j.count.load(Relaxed)).sum()
    }

    /// Ticks that should have happened but did not, per job: the grid points between its first and
    /// its latest due instant that it did not run.
    pub fn lost_ticks(&self, range: std::ops::Range<usize>, period: Duration) -> u64 {
        let p = period.as_nanos() as f64;
        self.jobs[range]
            .iter()
            .filter(|j| j.count.load(Relaxed) > 0)
            .map(|j| {
                let span = j.last_due.load(Relaxed).saturating_sub(j.first_due.load(Relaxed)) as f64;
                let expected = (span / p).round() as u64 + 1;
                expected.saturating_sub(j.count.load(Relaxed))
            })
            .sum()
    }

    /// In how many distinct 1 ms slots of the period the jobs' grids fall (tokio's timer has 1 ms
    /// resolution, so this is how many timer wake-ups per period the jobs need at least).
    pub fn grid_slots(&self, period: Duration) -> usize {
        let period_ms = (period.as_millis() as u64).max(1);
        let mut seen = vec![false; period_ms as usize];
        for j in self.jobs.iter() {
            let due = j.last_due.load(Relaxed);
            if due > 0 {
                seen[((due / 1_000_000) % period_ms) as usize] = true;
            }
        }
        seen.iter().filter(|s| **s).count()
    }

    pub fn lateness(&self, group: usize) -> Lateness {
        let hists = self.hists.lock().unwrap();
        let mut merged = vec![0u64; BUCKETS];
        let mut max = 0u64;
        for h in hists.iter() {
            for (i, m) in merged.iter_mut().enumerate() {
                *m += h.buckets[group * BUCKETS + i].load(Relaxed);
            }
            max = max.max(h.max_ns[group].load(Relaxed));
        }
        let n: u64 = merged.iter().sum();
        if n == 0 {
            return Lateness::default();
        }
        let pct = |q: f64| -> f64 {
            let rank = ((q * n as f64).ceil() as u64).max(1);
            let mut acc = 0;
            for (i, c) in merged.iter().enumerate() {
                acc += c;
                if acc >= rank {
                    return (bucket_upper_ns(i).min(max)) as f64 / 1_000.0;
                }
            }
            max as f64 / 1_000.0
        };
        Lateness {
            n,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            max_us: max as f64 / 1_000.0,
        }
    }
}

/// CPU time and context switches of the whole process (getrusage RUSAGE_SELF).
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    pub user: Duration,
    pub sys: Duration,
    /// Voluntary context switches (a thread blocked: parked, waited in epoll or on a futex).
    pub vcsw: u64,
    /// Involuntary ones (preempted).
    pub ivcsw: u64,
}

impl Usage {
    pub fn now() -> Usage {
        // SAFETY: getrusage writes into the struct we pass.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        assert_eq!(rc, 0, "getrusage failed");
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
        Usage {
            user: tv(ru.ru_utime),
            sys: tv(ru.ru_stime),
            vcsw: ru.ru_nvcsw as u64,
            ivcsw: ru.ru_nivcsw as u64,
        }
    }

    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
            vcsw: self.vcsw - earlier.vcsw,
            ivcsw: self.ivcsw - earlier.ivcsw,
        }
    }
}

/// Resident set size in bytes (VmRSS of /proc/self/status).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// glibc's view of the heap: (bytes in use, bytes free inside the heap, bytes in mmapped chunks).
pub fn heap() -> (u64, u64, u64) {
    // SAFETY: `mallinfo2` only reads the allocator's statistics.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks as u64, m.fordblks as u64, m.hblkhd as u64)
}
