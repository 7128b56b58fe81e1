//! The periodic loop: one task per periodic service, one reusable timer, and no allocation, scan
//! or shared lock per tick.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use tokio::time::Instant;
use tokio_util::either::Either;
use tracing::Instrument;

use crate::clock::{Stamp, deadline, jitter};
use crate::context::Context;
use crate::error::{BoxError, Failure};
use crate::panic::{Caught, call_caught, into_failure};
use crate::schedule::{Tick, Timeline};
use crate::service::Job;
use crate::status::{ServiceKind, State};
use crate::supervisor::Body;

/// A [`Job`], run on the service's [`Schedule`](crate::Schedule) (which the status cell holds).
pub(crate) struct Periodic<J> {
    job: J,
    /// Runs so far; survives restarts.
    runs: u64,
}

impl<J: Job> Periodic<J> {
    pub(crate) fn new(job: J) -> Self {
        Periodic { job, runs: 0 }
    }
}

impl<J: Job> Body for Periodic<J> {
    const KIND: ServiceKind = ServiceKind::Periodic;
    const HOOKS: bool = false;

    fn start<'a>(&'a mut self, _ctx: &'a Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        std::future::ready(Ok(()))
    }

    fn stop<'a>(&'a mut self, _ctx: &'a Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        std::future::ready(Ok(()))
    }

    /// The job keeps its value across restarts; the schedule starts over from the restart.
    fn renew(&mut self) -> Result<(), Failure> {
        Ok(())
    }

    #[expect(clippy::manual_async_fn, reason = "an async fn would store its arguments twice")]
    fn run_once<'a>(&'a mut self, ctx: &'a Context) -> impl Future<Output = Result<(), Failure>> + Send + 'a {
        async move {
            // Everything that lives across the loop's awaits is stored in every periodic task for its
            // whole life: what can be read again from `ctx` (the status, the schedule, the epoch) is
            // read where it is used rather than kept in a local.
            let Some(schedule) = ctx.status().schedule() else {
                return Err(Failure::Error(
                    "a periodic service without a schedule (a host bug)".into(),
                ));
            };
            let mut timeline = Timeline::new(schedule, Instant::now(), ctx.host().wall_origin(), ctx.host().epoch());
            // The loop's only timer: it waits for the next tick and, during a run with a timeout, is
            // that run's deadline. Boxed, as `tokio::time::interval` boxes its own: when a thousand
            // timers fire in one wheel slot, tokio walks their entries one after another, and
            // entries allocated together sit side by side (112 bytes apart, an access pattern the
            // processor prefetches) where entries inside the tasks would be a whole task cell
            // apart. The box also takes the entry's 112 bytes out of the task, so a small job's
            // task fits tokio's 512-byte cell rather than the 640-byte one: the memory is the same.
            // Made once, on the task's first poll: no allocation per tick.
            let mut sleep = Box::pin(tokio::time::sleep_until(Instant::now()));
            let mut consecutive_failures = 0u32;
            // Whether the stop's waker slot holds this task's waker (see the wait below).
            let mut registered = false;
            // A singleton job's ticks come from the database clock; `None` for every other
            // job, whose only cost is the branch on it.
            // Boxed, like its claims and releases below: every periodic task is as large as its
            // largest state, and most jobs are not singletons.
            let mut singleton = crate::coordination::driver(schedule, ctx).map(Box::new);
            loop {
                let next = match &singleton {
                    Some(driver) => Some(driver.next_due()),
                    None => timeline.due(),
                };
                let Some(due) = next else {
                    tracing::info!("the schedule has no further runs");
                    ctx.status().set_next_run(Stamp::NONE);
                    return Ok(());
                };
                let status = ctx.status();
                // In a block: a local (the jitter) alive across the wait would take room in
                // every periodic task.
                let fire_at = {
                    let jitter = jitter(schedule.opts().jitter);
                    let fire_at = if jitter.is_zero() { due } else { deadline(due, jitter) };
                    status.set_next_run(match singleton {
                        None => timeline.stamp().after(jitter),
                        Some(_) => Stamp::of(ctx.host().epoch(), Some(fire_at)),
                    });
                    fire_at
                };
                status.set_state(State::Waiting);
                if status.runs() == 0 && singleton.is_none() && fire_at <= Instant::now() {
                    // The service's first run, due at start: no timer to wait for (a timer due
                    // now still waits for the driver's next turn, and a wake-up is a poll more).
                    // Never after a stop either.
                    if ctx.shared.is_stopped() {
                        status.set_next_run(Stamp::NONE);
                        return Ok(());
                    }
                } else {
                    sleep.as_mut().reset(fire_at);
                    // Cancellation first: no run starts once shutdown has begun. The stop wakes
                    // the service through its waker slot; the flag is an atomic load (a token's
                    // state is behind a mutex, and waiting on it takes a 72-byte future).
                    let stopped = std::future::poll_fn(|cx| {
                        let host = ctx.host();
                        if host.is_stopping() {
                            return Poll::Ready(true);
                        }
                        // Once per loop: the task's waker stays in the slot until the stop takes
                        // it (nothing else wakes a periodic service's slot), and a tokio task's
                        // waker does not change between polls. Registering on every wait was two
                        // atomic read-modify-writes and a flag load more per run.
                        if !registered {
                            ctx.shared.stop_waker.register(cx.waker());
                            registered = true;
                            if host.is_stopping() {
                                return Poll::Ready(true);
                            }
                        }
                        sleep.as_mut().poll(cx).map(|()| false)
                    })
                    .await;
                    // The service's token can also be cancelled by hand (if it was ever made).
                    if stopped || ctx.shared.is_stopped() {
                        ctx.status().set_next_run(Stamp::NONE);
                        return Ok(());
                    }
                }
                // A singleton runs only the ticks it claims; an unreachable backend skips
                // the tick and counts as a failed run (so `max_failures` decides about long outages).
                // The claimed lease is kept in the driver (not in a local of this loop, which
                // every periodic task would carry) until the run has finished.
                if let Some(driver) = &mut singleton {
                    match Box::pin(driver.claim()).await {
                        Ok(Some(lease)) => driver.current = Some(lease),
                        Ok(None) => {
                            if consecutive_failures != 0 {
                                consecutive_failures = 0;
                                ctx.status().set_consecutive_failures(0);
                            }
                            continue;
                        }
                        Err(failure) => {
                            consecutive_failures = consecutive_failures.saturating_add(1);
                            tracing::warn!(consecutive_failures, error = %failure, "tick skipped: coordination unavailable");
                            if gives_up(ctx, schedule, consecutive_failures, &failure) {
                                return Err(failure);
                            }
                            continue;
                        }
                    }
                }
                self.runs = self.runs.saturating_add(1);
                // The run's future lives in this loop's own state, pinned once where it is built: no
                // intermediate future around it, so nothing of it is copied or stored twice. Each
                // branch below awaits once and keeps its locals to itself: a local (or a `match`
                // scrutinee) alive across an await takes room in every periodic task, which is why
                // the start instant lives in a block that ends before the await (the status keeps
                // its stamp). A panic while making the run's future is a failed run too.
                let outcome = match &schedule.opts().timeout {
                    // A singleton run gets its lease's context, cancelled if the lease is lost.
                    None => 'run: {
                        let run = {
                            let started = Instant::now();
                            ctx.status().run_started(ctx.host().epoch(), started);
                            match call_caught(|| {
                                let lease = lease(singleton.as_deref());
                                let tick = tick(self.runs, fire_at, started, lease);
                                self.job.run(lease.map_or(ctx, |l| l.ctx()), tick)
                            }) {
                                Ok(run) => run,
                                Err(failure) => break 'run Err(failure),
                            }
                        };
                        // Two awaits rather than one on an `Either`: without a subscriber that wants
                        // the span, the run is polled with nothing around it.
                        if let Some(span) = run_span(self.runs, fire_at, ctx) {
                            break 'run into_failure(Caught::new(run.instrument(span), &ctx.status().busy).await);
                        }
                        into_failure(Caught::new(run, &ctx.status().busy).await)
                    }
                    Some(limit) => 'run: {
                        // The limit and the deadline are read again where needed (the `sleep` holds the
                        // deadline): locals would be kept across the run.
                        let run_ctx = lease(singleton.as_deref()).map_or_else(|| ctx.for_run(), |l| l.ctx().clone());
                        let run = {
                            let started = Instant::now();
                            ctx.status().run_started(ctx.host().epoch(), started);
                            sleep.as_mut().reset(deadline(started, *limit));
                            match call_caught(|| {
                                self.job
                                    .run(&run_ctx, tick(self.runs, fire_at, started, lease(singleton.as_deref())))
                            }) {
                                Ok(run) => run,
                                Err(failure) => break 'run Err(failure),
                            }
                        };
                        let run = match run_span(self.runs, fire_at, ctx) {
                            Some(span) => Either::Right(run.instrument(span)),
                            None => Either::Left(run),
                        };
                        let run = Caught::new(run, &ctx.status().busy);
                        let finished = Deadline {
                            run,
                            sleep: sleep.as_mut(),
                        }
                        .await;
                        match finished {
                            // A run that blocked its thread past the deadline has timed out too,
                            // whatever it returned.
                            Some(_) if Instant::now() > sleep.deadline() => Err(Failure::Timeout(*limit)),
                            Some(result) => into_failure(result),
                            None => {
                                // The run's future was dropped (by `Deadline`); now its token is
                                // cancelled.
                                run_ctx.token().cancel();
                                Err(Failure::Timeout(*limit))
                            }
                        }
                    }
                };
                if let Some(driver) = &mut singleton
                    && let Some(lease) = driver.current.take()
                {
                    Box::pin(driver.finish(lease, outcome.is_ok())).await;
                }
                let ended = Instant::now();
                let status = ctx.status();
                let ended_stamp = status.run_ended(ctx.host().epoch(), ended);
                // The start as the status stamped it (not a local kept across the run).
                #[cfg(any(feature = "testing", feature = "metrics"))]
                let started = status.last_start();
                #[cfg(feature = "testing")]
                if let Some(recorder) = ctx.host().recorder() {
                    let started = started.instant(ctx.host().epoch()).unwrap_or(ended);
                    recorder.record(ctx.name_arc(), self.runs, fire_at, started, &outcome);
                }
                #[cfg(feature = "metrics")]
                status.metrics.on_run_end(
                    ended_stamp.since(started),
                    Some(started.since(Stamp::of(ctx.host().epoch(), Some(fire_at)))),
                    outcome.is_ok(),
                );
                // The failure streak is the health rule's (`/status`); stored only when it changes.
                match outcome {
                    Ok(()) if consecutive_failures == 0 => {}
                    Ok(()) => {
                        consecutive_failures = 0;
                        status.set_consecutive_failures(0);
                    }
                    Err(failure) => {
                        consecutive_failures = consecutive_failures.saturating_add(1);
                        tracing::error!(run = self.runs, consecutive_failures, error = %failure, "run failed");
                        if gives_up(ctx, schedule, consecutive_failures, &failure) {
                            return Err(failure);
                        }
                    }
                }
                timeline.advance(schedule, ended, ended_stamp, ctx.host().epoch());
            }
        }
    }
}

/// Records a failed tick (a run that failed, or one skipped because coordination was unavailable)
/// in the status; whether the streak has reached the schedule's `max_failures`.
fn gives_up(ctx: &Context, schedule: &crate::Schedule, consecutive_failures: u32, failure: &Failure) -> bool {
    let status = ctx.status();
    status.failed(failure.to_string());
    status.set_consecutive_failures(consecutive_failures);
    schedule
        .opts()
        .max_failures
        .is_some_and(|max| consecutive_failures >= max)
}

/// The lease of a singleton's run under way.
fn lease(singleton: Option<&crate::coordination::Driver>) -> Option<&crate::coordination::Lease> {
    singleton.and_then(|driver| driver.current.as_ref())
}

/// A run's [`Tick`], made where it is handed to the job (a local would be kept across the run).
fn tick(run: u64, scheduled: Instant, started: Instant, lease: Option<&crate::coordination::Lease>) -> Tick {
    Tick {
        run,
        scheduled,
        started,
        claim: lease.map(|l| l.claimed()),
    }
}

/// The span of a run that has started (inside the service's span); `None` when no subscriber
/// wants it: entering even a disabled span costs every poll.
fn run_span(runs: u64, scheduled: Instant, ctx: &Context) -> Option<tracing::Span> {
    // A global atomic read settles the common case (no subscriber at INFO) before the span's
    // callsite is consulted.
    if !tracing::level_enabled!(tracing::Level::INFO) {
        return None;
    }
    // The start as the status stamped it (the loop keeps no start instant across the run).
    let epoch = ctx.host().epoch();
    let lateness = ctx.status().last_start().since(Stamp::of(epoch, Some(scheduled)));
    let span =
        tracing::info_span!("run", run = runs, scheduled = %crate::clock::Rfc3339(scheduled), lateness = ?lateness);
    (!span.is_disabled()).then_some(span)
}

pin_project_lite::pin_project! {
    /// A run with a timeout: the run first, then its deadline (as `tokio::time::timeout` polls),
    /// on the loop's own timer. At the deadline the run's future is dropped (a panic in its `Drop`
    /// is logged: the run has timed out either way) and the output is `None`. A named future, so
    /// that the run is stored once and no pointers to it or the timer are kept beside it.
    struct Deadline<'s, F> {
        #[pin]
        run: F,
        sleep: Pin<&'s mut tokio::time::Sleep>,
    }
}

impl<'a, F: Future> Future for Deadline<'_, Caught<F, &'a std::sync::atomic::AtomicBool>> {
    type Output = Option<<Caught<F, &'a std::sync::atomic::AtomicBool> as Future>::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.run.as_mut().poll(cx) {
            return Poll::Ready(Some(result));
        }
        // Unconstrained: a run that used up the task's budget must not keep its deadline from
        // firing.
        match Pin::new(&mut tokio::task::unconstrained(this.sleep.as_mut())).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                if let Err(payload) = this.run.cancel() {
                    tracing::error!(error = %Failure::from_panic(payload), "the timed-out run panicked while being dropped");
                }
                Poll::Ready(None)
            }
        }
    }
}
