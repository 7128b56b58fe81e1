//! The implementations under test, each running `n` jobs on one period and calling the same probe.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::macro_jobs;
use crate::probe::{GROUP_API, Probe};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Imp {
    /// `tokio::spawn` + `tokio::time::interval` + `CancellationToken`, by hand.
    Baseline,
    /// `host::Host` with `host::Service::periodic` (and a few `#[host::periodic]` in scenario a).
    Host,
    /// tokio-cron-scheduler 0.15: repeated jobs (whole seconds, polled every 500 ms).
    Tcs,
    /// tokio-graceful-shutdown 0.20: one subsystem per job, each an interval loop.
    Tgs,
}

impl Imp {
    pub const ALL: [Imp; 4] = [Imp::Baseline, Imp::Host, Imp::Tcs, Imp::Tgs];

    pub fn name(self) -> &'static str {
        match self {
            Imp::Baseline => "baseline",
            Imp::Host => "host",
            Imp::Tcs => "tokio-cron-scheduler",
            Imp::Tgs => "tokio-graceful-shutdown",
        }
    }

    pub fn parse(s: &str) -> Option<Imp> {
        match s {
            "baseline" => Some(Imp::Baseline),
            "host" => Some(Imp::Host),
            "tcs" | "tokio-cron-scheduler" => Some(Imp::Tcs),
            "tgs" | "tokio-graceful-shutdown" => Some(Imp::Tgs),
            _ => None,
        }
    }

    /// The period this implementation actually runs for a requested one: tokio-cron-scheduler
    /// stores periods and due times in whole seconds, so it cannot go below 1 s.
    pub fn effective_period(self, period: Duration) -> Duration {
        match self {
            Imp::Tcs => Duration::from_secs(period.as_secs_f64().ceil().max(1.0) as u64),
            _ => period,
        }
    }

    /// Whether the first run happens at start (tokio-cron-scheduler's repeated jobs first run one
    /// period after they are added).
    pub fn first_tick_at_start(self) -> bool {
        !matches!(self, Imp::Tcs)
    }
}

/// A running implementation.
pub enum Running {
    Baseline {
        token: CancellationToken,
        handles: Vec<JoinHandle<()>>,
    },
    /// The host's run is driven by the harness's own thread, as `host.run().await` in `main` is
    /// (see [`Running::drive`]), not spawned onto the runtime.
    Host {
        handle: host::HostHandle,
        run: HostRun,
        done: Option<Result<host::Report, host::Error>>,
    },
    Tcs {
        sched: tokio_cron_scheduler::JobScheduler,
    },
    /// Scenario (e)'s floor (`floor.rs`).
    Floor(crate::floor::Running),
    Tgs {
        token: CancellationToken,
        join: JoinHandle<Result<(), tokio_graceful_shutdown::errors::GracefulShutdownError>>,
    },
}

pub struct Started {
    pub running: Running,
    /// Jobs built through `#[host::periodic]` (their probe slots are the last ones).
    pub macro_jobs: usize,
}

/// Starts `n` jobs, each running every `period` (the first run at start where the implementation
/// can express it). With `with_macro`, host builds the last few of them through `#[host::periodic]`.
pub async fn start(
    imp: Imp,
    probe: &'static Probe,
    n: usize,
    period: Duration,
    with_macro: bool,
    spread: bool,
    names: Vec<std::sync::Arc<str>>,
) -> Started {
    let phase = Phase { n, period, spread };
    match imp {
        Imp::Baseline => Started {
            running: baseline(probe, n, period, phase),
            macro_jobs: 0,
        },
        Imp::Host => host(probe, n, period, with_macro, phase, names),
        Imp::Tcs => Started {
            running: tcs(probe, n, imp.effective_period(period)).await,
            macro_jobs: 0,
        },
        Imp::Tgs => Started {
            running: tgs(probe, n, period, phase),
            macro_jobs: 0,
        },
    }
}

/// The names of host's `n` periodic services, made by the caller before its clock starts (as in
/// (e): a name is the service's input, like its job, and `#[periodic]` names are static strings,
/// not formatted at start); the other implementations name nothing (tokio-graceful-shutdown
/// formats its subsystems' names itself).
pub fn names(imp: Imp, n: usize) -> Vec<std::sync::Arc<str>> {
    match imp {
        Imp::Host => (0..n).map(|i| std::sync::Arc::from(format!("job-{i}"))).collect(),
        _ => Vec::new(),
    }
}

/// Where in the period each job's grid starts: all at start, or (`spread`) job `i` of `n` at
/// `i / n` of the period, as services started at different times would be.
#[derive(Clone, Copy)]
pub struct Phase {
    n: usize,
    period: Duration,
    spread: bool,
}

impl Phase {
    pub fn offset(self, i: usize) -> Duration {
        if self.spread {
            self.period.mul_f64(i as f64 / self.n as f64)
        } else {
            Duration::ZERO
        }
    }
}

/// The hand-written loop: `interval` with `Skip`, cancellation checked first. The baseline runs
/// it in a spawned task, tokio-graceful-shutdown in a subsystem: one function, so the two run the
/// very same loop.
async fn interval_loop(
    probe: &'static Probe,
    i: usize,
    period: Duration,
    phase: Phase,
    cancelled: impl Future<Output = ()>,
) {
    let mut interval = tokio::time::interval_at(Instant::now() + phase.offset(i), period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tokio::pin!(cancelled);
    loop {
        tokio::select! {
            biased;
            _ = &mut cancelled => break,
            due = interval.tick() => probe.tick(i, GROUP_API, due),
        }
    }
}

fn baseline(probe: &'static Probe, n: usize, period: Duration, phase: Phase) -> Running {
    let token = CancellationToken::new();
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let token = token.clone();
        let guard = probe.guard();
        handles.push(tokio::spawn(async move {
            let _guard = guard;
            interval_loop(probe, i, period, phase, token.cancelled()).await;
        }));
    }
    Running::Baseline { token, handles }
}

fn host(
    probe: &'static Probe,
    n: usize,
    period: Duration,
    with_macro: bool,
    phase: Phase,
    names: Vec<std::sync::Arc<str>>,
) -> Started {
    // The macro jobs exist only once `#[host::periodic]` registers them for discovery.
    let n_macro = if with_macro { macro_jobs::registered().min(n) } else { 0 };
    let n_api = n - n_macro;
    macro_jobs::BASE.store(n_api, std::sync::atomic::Ordering::Relaxed);
    let services = names.into_iter().take(n_api).enumerate().map(|(i, name)| {
        let guard = probe.guard();
        host::Service::periodic(
            name,
            host::Schedule::every(period).initial_delay(phase.offset(i)),
            move |_ctx: host::Context, tick: host::Tick| {
                let _ = &guard;
                async move { probe.tick(i, GROUP_API, tick.scheduled()) }
            },
        )
    });
    let host = host::Host::builder()
        .discover(n_macro > 0)
        .allow_empty(true)
        .catch_signals(false)
        .services(services)
        .build()
        .expect("host builds");
    let macro_jobs = host.service_names().count() - n_api;
    assert!(
        macro_jobs == 0 || macro_jobs == n_macro,
        "found {macro_jobs} registered services, expected the {n_macro} of macro_jobs.rs"
    );
    Started {
        running: Running::host(host),
        macro_jobs,
    }
}

async fn tcs(probe: &'static Probe, n: usize, period: Duration) -> Running {
    use tokio_cron_scheduler::{Job, JobScheduler};
    // The default constructor, as its README shows (broadcast channels of 200 entries).
    let sched = JobScheduler::new().await.expect("scheduler");
    for i in 0..n {
        let guard = probe.guard();
        let job = Job::new_repeated_async(period, move |_id, _sched| {
            let _ = &guard;
            Box::pin(async move { probe.tick_wall(i) })
        })
        .expect("job");
        sched.add(job).await.expect("add");
    }
    sched.start().await.expect("start");
    Running::Tcs { sched }
}

fn tgs(probe: &'static Probe, n: usize, period: Duration, phase: Phase) -> Running {
    use tokio_graceful_shutdown::{SubsystemBuilder, SubsystemHandle, Toplevel};
    let token = CancellationToken::new();
    let top = Toplevel::new_with_shutdown_token(
        async move |s: &mut SubsystemHandle| {
            for i in 0..n {
                let guard = probe.guard();
                s.start(SubsystemBuilder::new(
                    format!("job-{i}"),
                    async move |subsys: &mut SubsystemHandle| {
                        let _guard = guard;
                        interval_loop(probe, i, period, phase, subsys.on_shutdown_requested()).await;
                        Ok::<(), std::convert::Infallible>(())
                    },
                ));
            }
        },
        token.clone(),
    );
    let join = tokio::spawn(top.handle_shutdown_requests(Duration::from_secs(30)));
    Running::Tgs { token, join }
}

/// A host's run, polled by whoever drives it.
pub type HostRun = std::pin::Pin<Box<dyn Future<Output = Result<host::Report, host::Error>> + Send>>;

impl Running {
    fn host(host: host::Host) -> Running {
        Running::Host {
            handle: host.handle(),
            run: Box::pin(host.run()),
            done: None,
        }
    }

    /// Awaits `f` on this thread while driving the host's run alongside it, as an application's
    /// `main` does with `host.run().await` (the baseline's loops run on this thread too). The
    /// other implementations run on their own.
    pub async fn drive<F: Future>(&mut self, f: F) -> F::Output {
        let Running::Host { run, done, .. } = self else {
            return f.await;
        };
        let mut f = std::pin::pin!(f);
        std::future::poll_fn(|cx| {
            if done.is_none()
                && let std::task::Poll::Ready(result) = run.as_mut().poll(cx)
            {
                *done = Some(result);
            }
            f.as_mut().poll(cx)
        })
        .await
    }

    /// The host's run to its end: its report or error.
    pub async fn finish_host(self) -> Result<host::Report, host::Error> {
        match self {
            Running::Host { run, done, .. } => match done {
                Some(result) => result,
                None => run.await,
            },
            _ => panic!("not a host"),
        }
    }

    /// Requests the stop; returns when the request itself has returned.
    pub async fn request_stop(&mut self) {
        match self {
            Running::Baseline { token, .. } | Running::Tgs { token, .. } => token.cancel(),
            Running::Host { handle, .. } => handle.stop(),
            Running::Tcs { sched } => sched.shutdown().await.expect("shutdown"),
            Running::Floor(floor) => floor.request_stop(),
        }
    }

    /// Waits until the implementation reports that everything has stopped. Returns an error text
    /// if it reported a failure. tokio-cron-scheduler has nothing to wait for.
    ///
    /// Also returns when it did: the instant its caller resumed, before the caller drops what it
    /// got back (host's report).
    pub async fn finish(self) -> (Option<String>, Instant) {
        match self {
            Running::Baseline { handles, .. } => {
                for h in handles {
                    if let Err(e) = h.await {
                        return (Some(e.to_string()), Instant::now());
                    }
                }
                (None, Instant::now())
            }
            running @ Running::Host { .. } => {
                let result = running.finish_host().await;
                let at = Instant::now();
                (result.err().map(|e| e.to_string()), at)
            }
            Running::Tcs { sched } => {
                // Keep the scheduler alive like an application would (until it exits).
                std::mem::forget(sched);
                (None, Instant::now())
            }
            Running::Floor(floor) => {
                let report = floor.finish().await;
                let at = Instant::now();
                assert!(report.iter().all(|(_, state)| *state == crate::floor::STOPPED));
                (None, at)
            }
            Running::Tgs { join, .. } => {
                let result = join.await;
                let at = Instant::now();
                let err = match result {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(e) => Some(e.to_string()),
                };
                (err, at)
            }
        }
    }
}

/// A hosted service whose body marks that it runs, then waits for its token: the same body the
/// baseline spawns by hand. It has no hooks (`HOOKS = false`), like `#[hosted_service] async fn`.
struct Body {
    probe: &'static Probe,
    i: usize,
    _guard: crate::probe::Guard,
}

impl host::HostedService for Body {
    const HOOKS: bool = false;

    async fn run(&mut self, ctx: &host::Context) -> Result<(), host::BoxError> {
        self.probe.tick(self.i, GROUP_API, Instant::now());
        ctx.cancelled().await;
        Ok(())
    }
}

/// Scenario (e): `n` long-running bodies, started by hand (`tokio::spawn`, one token) or as hosted
/// services named `names` (made by the caller before its clock starts: a name is the service's
/// input, like its body, and `#[hosted_service]` names are static strings, not formatted at start).
pub fn start_hosted(imp: Imp, probe: &'static Probe, n: usize, names: Vec<std::sync::Arc<str>>) -> Running {
    match imp {
        Imp::Baseline => {
            let token = CancellationToken::new();
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                let token = token.clone();
                let guard = probe.guard();
                handles.push(tokio::spawn(async move {
                    let _guard = guard;
                    probe.tick(i, GROUP_API, Instant::now());
                    token.cancelled().await;
                }));
            }
            Running::Baseline { token, handles }
        }
        Imp::Host => {
            let services = names.into_iter().enumerate().map(|(i, name)| {
                let body = Body {
                    probe,
                    i,
                    _guard: probe.guard(),
                };
                host::Service::hosted(name, body)
            });
            let host = host::Host::builder()
                .discover(false)
                .catch_signals(false)
                .services(services)
                .build()
                .expect("host builds");
            Running::host(host)
        }
        Imp::Tcs | Imp::Tgs => panic!("scenario e compares host with the baseline only"),
    }
}

/// Scenario (e)'s floor (`floor.rs`): the same bodies as [`start_hosted`]'s, under `names`.
pub fn start_floor(probe: &'static Probe, names: Vec<std::sync::Arc<str>>) -> Running {
    let services = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let body = crate::floor::Body {
                probe,
                i,
                _guard: probe.guard(),
            };
            (name, Box::new(body) as Box<dyn crate::floor::Erased>)
        })
        .collect();
    Running::Floor(crate::floor::start(services))
}
