//! One task per service: the only place that spawns, and the supervision loop (failure policies,
//! restarts with back-off and intensity) every service body runs in.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{Instrument, Span};

use crate::context::Context;
use crate::error::{BoxError, Failure, ServiceFailure, humanize};
use crate::panic;
use crate::policy::FailurePolicy;
use crate::schedule::ScheduleError;
use crate::service::HostedService;
use crate::status::State;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A type-erased service as the host holds it: hooks called by the host's task, and a body that
/// [`Slot::spawn`] moves onto its own task and hands back in [`Done`] when it ends.
pub(crate) trait Slot: Send + 'static {
    /// Validates the configuration once, at build time.
    fn prepare(&mut self) -> Result<(), ScheduleError> {
        Ok(())
    }
    fn start<'a>(&'a mut self, ctx: &'a Context) -> BoxFuture<'a, Result<(), BoxError>>;
    fn stop<'a>(&'a mut self, ctx: &'a Context) -> BoxFuture<'a, Result<(), BoxError>>;
    fn spawn(self: Box<Self>, task: Task) -> JoinHandle<Done>;
}

/// What a service's task needs besides the slot.
pub(crate) struct Task {
    pub(crate) ctx: Context,
    pub(crate) policy: FailurePolicy,
    pub(crate) span: Span,
}

/// A service's task has ended.
pub(crate) struct Done {
    pub(crate) slot: Box<dyn Slot>,
    pub(crate) exit: Exit,
}

/// How a service's body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Cancelled, and returned.
    Stopped,
    /// Returned `Ok` before it was cancelled.
    Completed,
    /// Failed and was not restarted.
    Failed,
}

/// The part of a service that runs on its task, once per (re)start.
pub(crate) trait Body: Send + 'static {
    /// Runs the body until it ends; failures are counted in the status by the body itself.
    fn run_once<'a>(&'a mut self, ctx: &'a Context) -> impl Future<Output = Result<(), Failure>> + Send + 'a;
}

/// Spawns `slot`'s body under supervision. Every service task in the host is spawned here.
pub(crate) fn spawn_supervised<T: Slot + Body>(mut slot: Box<T>, task: Task) -> JoinHandle<Done> {
    let Task { ctx, policy, span } = task;
    tokio::spawn(
        async move {
            let exit = supervise(&mut *slot, &ctx, &policy).await;
            Done { slot, exit }
        }
        .instrument(span),
    )
}

/// What supervision remembers between restarts; created on the first failure only, so that a
/// service that never fails carries one pointer for it in its task.
struct Restarts {
    /// Restart instants within the intensity window.
    at: VecDeque<Instant>,
    rng: fastrand::Rng,
}

// Everything that lives across `run_once` below is stored in every service's task for its whole
// life: keep it small (references, and boxes for what only the failure path uses).
async fn supervise<B: Body>(body: &mut B, ctx: &Context, policy: &FailurePolicy) -> Exit {
    let status = &ctx.shared.status;
    let epoch = ctx.shared.host.inner.epoch;
    let mut history: Option<Box<Restarts>> = None;
    loop {
        let failure = match body.run_once(ctx).await {
            Ok(()) if ctx.is_cancelled() => return Exit::Stopped,
            Ok(()) => {
                tracing::info!("body finished before shutdown; the service stays registered until then");
                status.set_state(State::Stopped);
                return Exit::Completed;
            }
            Err(failure) => failure,
        };
        let error = tracing::field::display(&failure);
        let fatal = |failure: Failure| {
            let failure = ServiceFailure {
                service: ctx.name().to_owned(),
                failure,
            };
            ctx.host().report_failure(failure, true);
        };
        if ctx.is_cancelled() {
            tracing::error!(%error, "service failed while stopping");
            status.set_state(State::Failed);
            fatal(failure);
            return Exit::Failed;
        }
        match *policy {
            FailurePolicy::StopHost => {
                tracing::error!(%error, policy = "stop-host", "service failed; stopping the host");
                status.set_state(State::Failed);
                fatal(failure);
                return Exit::Failed;
            }
            FailurePolicy::Ignore => {
                tracing::error!(%error, policy = "ignore", "service failed; the host goes on without it");
                status.set_state(State::Failed);
                return Exit::Failed;
            }
            FailurePolicy::Restart(restart) => {
                let Restarts { at: restarts, rng } = &mut **history.get_or_insert_with(|| {
                    Box::new(Restarts {
                        at: VecDeque::new(),
                        rng: fastrand::Rng::new(),
                    })
                });
                let now = Instant::now();
                while restarts
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= restart.window)
                {
                    restarts.pop_front();
                }
                let recent = u32::try_from(restarts.len()).unwrap_or(u32::MAX);
                if recent >= restart.max_restarts {
                    tracing::error!(
                        %error,
                        restarts = recent,
                        window = %humanize(restart.window),
                        "service failed: more than {} restarts within {}; escalating: stopping the host",
                        restart.max_restarts,
                        humanize(restart.window),
                    );
                    status.set_state(State::Failed);
                    fatal(failure);
                    return Exit::Failed;
                }
                let delay = restart.delay(recent, rng);
                tracing::warn!(%error, attempt = recent + 1, delay = %humanize(delay), "service failed; restarting after back-off");
                status.set_state(State::Restarting);
                status.set_next_run(epoch, Some(now + delay));
                // Boxed: the back-off's timer takes space only while backing off.
                let stopped = Box::pin(async {
                    tokio::select! {
                        biased;
                        _ = ctx.cancelled() => true,
                        _ = tokio::time::sleep(delay) => false,
                    }
                })
                .await;
                if stopped {
                    return Exit::Stopped;
                }
                restarts.push_back(Instant::now());
                status.restarted();
                #[cfg(feature = "metrics")] // issue 12
                status.metrics.on_restart();
                tracing::info!(attempt = recent + 1, "service restarted");
            }
        }
    }
}

/// A [`HostedService`] in the host.
pub(crate) struct HostedSlot<S>(pub(crate) S);

impl<S: HostedService> Slot for HostedSlot<S> {
    fn start<'a>(&'a mut self, ctx: &'a Context) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(self.0.start(ctx))
    }

    fn stop<'a>(&'a mut self, ctx: &'a Context) -> BoxFuture<'a, Result<(), BoxError>> {
        Box::pin(self.0.stop(ctx))
    }

    fn spawn(self: Box<Self>, task: Task) -> JoinHandle<Done> {
        spawn_supervised(self, task)
    }
}

impl<S: HostedService> Body for HostedSlot<S> {
    async fn run_once(&mut self, ctx: &Context) -> Result<(), Failure> {
        let status = &ctx.shared.status;
        let epoch = ctx.shared.host.inner.epoch;
        status.run_started(epoch, Instant::now());
        let result = panic::catch(self.0.run(ctx)).await;
        status.run_ended(epoch, Instant::now());
        #[cfg(feature = "metrics")] // issue 12
        status.metrics.on_body_end(result.is_ok());
        if let Err(failure) = &result {
            status.failed(failure.to_string());
        }
        result
    }
}
