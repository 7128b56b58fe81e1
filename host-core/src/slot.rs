//! [`Service`]: a named, configured, type-erased service, what the macros generate and what users
//! build by hand; and the hosted service's [`Body`] (the periodic one is in `periodic`).

use std::fmt;
use std::sync::Arc;

use crate::context::Context;
use crate::error::{BoxError, Failure};
use crate::inject::{Missing, Provided, Unresolved};
use crate::location::Location;
use crate::panic;
use crate::periodic::Periodic;
use crate::policy::FailurePolicy;
use crate::schedule::Schedule;
use crate::service::{HostedService, Job};
use crate::status::ServiceKind;
use crate::status::Stage;
use crate::supervisor::{self, Body, Exit, Spawned, Started, Task};

/// A named, configured service, ready to hand to [`Builder::service`](crate::Builder::service).
///
/// This is what the attribute macros produce for every annotated item, and what you build by hand
/// for services created at run time (for example from configuration).
#[must_use = "a Service does nothing until it is given to `Host::builder().service(…)`"]
pub struct Service {
    pub(crate) name: Arc<str>,
    pub(crate) order: i32,
    pub(crate) slot: Box<dyn Slot>,
    /// Where the service was made (the caller of `Service::hosted`, `periodic`, …): one pointer
    /// to a static. An attribute macro's position, recorded by [`at`](Self::at), is in `extras`.
    caller: &'static std::panic::Location<'static>,
    /// What most services leave unset, behind one optional box: a host of 100 000 services holds,
    /// sorts and moves them inside its start-up, 56 bytes each rather than 128. (A periodic
    /// service's schedule is in its slot's box.)
    pub(crate) extras: Option<Box<Extras>>,
}

/// The parts of a [`Service`] most services do not have.
#[derive(Default)]
pub(crate) struct Extras {
    /// Its own failure policy; `None`: the host's.
    pub(crate) policy: Option<FailurePolicy>,
    /// Set when the service is a work queue, for [`HostHandle::queue`](crate::HostHandle::queue).
    pub(crate) queue: Option<Arc<dyn crate::queue::registry::AnyQueue>>,
    /// The attribute macro's position, where one made the service.
    pub(crate) location: Option<Location>,
}

impl Service {
    /// A [`HostedService`] under `name`. A restart (under [`FailurePolicy::Restart`]) runs the
    /// hooks again on this same value; use [`hosted_with`](Self::hosted_with) for a fresh value per
    /// restart.
    #[track_caller]
    pub fn hosted(name: impl Into<Arc<str>>, service: impl HostedService) -> Self {
        Self::from_slot(name.into(), Box::new(hosted(service, Keep)))
    }

    /// A [`HostedService`] built by `constructor`, now and again for every restart, so that a
    /// restart never reuses the state a failed run left. `#[hosted_service]` on a type generates
    /// this with `Default::default` or its `new = path`.
    ///
    /// A panic in the constructor is a failure of the service: at build time
    /// ([`Error::Constructor`](crate::Error::Constructor)) or, for a restart, under its policy.
    #[track_caller]
    pub fn hosted_with<S: HostedService>(
        name: impl Into<Arc<str>>,
        mut constructor: impl FnMut() -> S + Send + 'static,
    ) -> Self {
        let first = constructor();
        Self::from_slot(name.into(), Box::new(hosted(first, Construct(constructor))))
    }

    /// A periodic service: `job` runs on `schedule`, never overlapping itself.
    #[track_caller]
    pub fn periodic(name: impl Into<Arc<str>>, schedule: Schedule, job: impl Job) -> Self {
        Self::from_slot(name.into(), Box::new(PeriodicSlot::new(job))).with_schedule(schedule)
    }

    pub(crate) fn with_schedule(mut self, schedule: Schedule) -> Self {
        self.slot.set_schedule(schedule);
        self
    }

    /// The extras, made when first set.
    pub(crate) fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// The schedule, to be changed by the configuration.
    #[cfg(feature = "config")]
    pub(crate) fn schedule_mut(&mut self) -> Option<&mut Schedule> {
        self.slot.schedule_mut()
    }

    /// The work queue this service is, if it is one.
    pub(crate) fn queue(&self) -> Option<&Arc<dyn crate::queue::registry::AnyQueue>> {
        self.extras.as_ref()?.queue.as_ref()
    }

    #[track_caller]
    pub(crate) fn from_slot(name: Arc<str>, slot: Box<dyn Slot>) -> Self {
        Service {
            name,
            order: 0,
            slot,
            caller: std::panic::Location::caller(),
            extras: None,
        }
    }

    /// Start order: lower values start first (default 0); ties start in name order. Stop order is
    /// the reverse.
    pub fn order(mut self, order: i32) -> Self {
        self.order = order;
        self
    }

    /// What happens when this service fails (default: the host's, see
    /// [`Builder::on_failure`](crate::Builder::on_failure)).
    pub fn on_failure(mut self, policy: FailurePolicy) -> Self {
        self.extras_mut().policy = Some(policy);
        self
    }

    /// Overrides the recorded source location (used by the attribute macros).
    #[doc(hidden)]
    pub fn at(mut self, file: &'static str, line: u32, column: u32) -> Self {
        self.extras_mut().location = Some(Location { file, line, column });
        self
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the service was defined.
    pub fn location(&self) -> Location {
        match self.extras.as_ref().and_then(|e| e.location) {
            Some(location) => location,
            None => self.caller.into(),
        }
    }

    /// Hosted or periodic.
    pub fn kind(&self) -> ServiceKind {
        self.slot.kind()
    }

    /// The schedule of a periodic service.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.slot.schedule()
    }

    /// Its start order (see [`order`](Self::order)).
    pub fn start_order(&self) -> i32 {
        self.order
    }

    /// Its own failure policy; `None`: the host's (see [`on_failure`](Self::on_failure)).
    pub fn failure_policy(&self) -> Option<FailurePolicy> {
        self.extras.as_ref()?.policy
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("kind", &self.kind())
            .field("order", &self.order)
            .field("location", &self.location())
            .finish_non_exhaustive()
    }
}

/// A service as the host holds it: validated at build time, then spawned onto its task.
pub(crate) trait Slot: Send + 'static {
    fn kind(&self) -> ServiceKind;
    /// Resolves injected values a service built from provided values becomes the slot
    /// that runs; every other one is already that slot.
    fn resolve(self: Box<Self>, provided: &Provided, name: &str) -> Result<Box<dyn Slot>, Unresolved>;
    /// Whether the service still has injected values to resolve (only those are resolved).
    fn is_pending(&self) -> bool {
        false
    }
    /// Whether every injected value is provided, constructing nothing (a slot without injected
    /// values has none to miss).
    fn check(&self, _provided: &Provided) -> Result<(), Missing> {
        Ok(())
    }
    fn spawn(self: Box<Self>, task: Task) -> (Spawned, Started);
    /// A periodic service's schedule, carried in its slot's box until the service's status takes
    /// it (`take_schedule`), so that the builder's `Service` needs no room for it and no box of
    /// its own: one would stay alive between the slot boxes that the spawns free, and keep glibc
    /// from reusing their memory. A hosted service has none.
    fn schedule(&self) -> Option<&Schedule> {
        None
    }
    #[cfg(feature = "config")]
    fn schedule_mut(&mut self) -> Option<&mut Schedule> {
        None
    }
    /// Sets the schedule of a periodic slot; nothing for a hosted one.
    fn set_schedule(&mut self, _schedule: Schedule) {}
    fn take_schedule(&mut self) -> Option<Schedule> {
        None
    }
}

/// A periodic service as the builder holds it: its job and its schedule. At spawn the job alone
/// moves into the task, the schedule having gone to the status.
pub(crate) struct PeriodicSlot<J> {
    job: J,
    schedule: Option<Schedule>,
}

impl<J: Job> PeriodicSlot<J> {
    pub(crate) fn new(job: J) -> Self {
        PeriodicSlot { job, schedule: None }
    }
}

impl<J: Job> Slot for PeriodicSlot<J> {
    fn kind(&self) -> ServiceKind {
        ServiceKind::Periodic
    }

    fn resolve(self: Box<Self>, _: &Provided, _: &str) -> Result<Box<dyn Slot>, Unresolved> {
        Ok(self)
    }

    fn spawn(self: Box<Self>, task: Task) -> (Spawned, Started) {
        supervisor::spawn(Periodic::new(self.job), task)
    }

    fn schedule(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    #[cfg(feature = "config")]
    fn schedule_mut(&mut self) -> Option<&mut Schedule> {
        self.schedule.as_mut()
    }

    fn set_schedule(&mut self, schedule: Schedule) {
        self.schedule = Some(schedule);
    }

    fn take_schedule(&mut self) -> Option<Schedule> {
        self.schedule.take()
    }
}

impl<B: Body> Slot for B {
    fn kind(&self) -> ServiceKind {
        B::KIND
    }

    fn resolve(self: Box<Self>, _: &Provided, _: &str) -> Result<Box<dyn Slot>, Unresolved> {
        Ok(self)
    }

    fn spawn(self: Box<Self>, task: Task) -> (Spawned, Started) {
        // Moved out of the box: the task holds the service inline, one allocation per service.
        supervisor::spawn(*self, task)
    }
}

/// A [`HostedService`], and how a restart gets its value.
struct Hosted<S, R> {
    service: S,
    renew: R,
}

/// How a restart of a hosted service gets its value.
pub(crate) trait Renew<S>: Send + 'static {
    /// A fresh value, or `None` to run the same one again.
    fn fresh(&mut self) -> Option<S>;
}

/// A restart runs the same value again ([`Service::hosted`]): no room taken in the task.
pub(crate) struct Keep;

impl<S> Renew<S> for Keep {
    fn fresh(&mut self) -> Option<S> {
        None
    }
}

/// A restart takes a fresh value from the constructor ([`Service::hosted_with`]).
pub(crate) struct Construct<F>(pub(crate) F);

impl<S, F: FnMut() -> S + Send + 'static> Renew<S> for Construct<F> {
    fn fresh(&mut self) -> Option<S> {
        Some((self.0)())
    }
}

pub(crate) fn hosted<S: HostedService, R: Renew<S>>(service: S, renew: R) -> impl Body {
    Hosted { service, renew }
}

/// A hosted body's run begins: stamped in its status.
pub(crate) fn run_begins(ctx: &Context) {
    ctx.status()
        .run_started(ctx.host().epoch(), tokio::time::Instant::now());
}

/// A hosted body's run has ended with `result`: stamped, counted, recorded, a failure noted.
pub(crate) fn run_ended(ctx: &Context, result: &Result<(), Failure>) {
    let status = ctx.status();
    status.run_ended(ctx.host().epoch(), tokio::time::Instant::now());
    #[cfg(feature = "metrics")]
    status.metrics.on_body_end(result.is_ok());
    #[cfg(feature = "testing")]
    if let Some(recorder) = ctx.host().recorder() {
        let started = status
            .last_start()
            .instant(ctx.host().epoch())
            .unwrap_or_else(tokio::time::Instant::now);
        recorder.record(ctx.name_arc(), status.runs(), started, started, result);
    }
    if let Err(failure) = result {
        status.failed(failure.to_string());
    }
}

/// Runs a hosted body once, with panics caught and `busy` set while it is polled. A macro, not a
/// function: a function's future would store the service and context references once more in
/// every hosted task (see [`Hosted`]'s `lean`).
macro_rules! run_hosted_body {
    ($service:expr, $ctx:expr) => {{
        let ctx: &Context = $ctx;
        run_begins(ctx);
        let result = 'run: {
            let run = match panic::call_caught(|| $service.run(ctx)) {
                Ok(run) => run,
                Err(failure) => break 'run Err(failure),
            };
            panic::into_failure(panic::Caught::new(run, &ctx.status().busy).await)
        };
        run_ended(ctx, &result);
        result
    }};
}

impl<S: HostedService, R: Renew<S>> Body for Hosted<S, R> {
    const KIND: ServiceKind = ServiceKind::Hosted;
    const HOOKS: bool = S::HOOKS;

    fn start<'a>(&'a mut self, ctx: &'a Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        self.service.start(ctx)
    }

    #[expect(clippy::manual_async_fn, reason = "an async fn would store its arguments twice")]
    fn run_once<'a>(&'a mut self, ctx: &'a Context) -> impl Future<Output = Result<(), Failure>> + Send + 'a {
        async move { run_hosted_body!(self.service, ctx) }
    }

    /// Without hooks, the whole life in one `async` block, the body's run inlined: the layers of
    /// the generic life (its loop awaiting [`run_once`](Body::run_once)) would each keep their own
    /// references to the service and context across the run. The task of a small body then fits
    /// tokio's 256-byte task cell rather than the 384-byte one.
    fn lean(mut self, ctx: Context) -> impl Future<Output = Exit> + Send + 'static {
        let shared = Arc::clone(&ctx.shared);
        supervisor::Guarded::new(shared, async move {
            ctx.status().set_stage(Stage::Body);
            let exit = supervisor::supervised!(run_hosted_body!(self.service, &ctx), &mut self, &ctx);
            supervisor::end(self, &ctx, exit)
        })
    }

    fn stop<'a>(&'a mut self, ctx: &'a Context) -> impl Future<Output = Result<(), BoxError>> + Send + 'a {
        self.service.stop(ctx)
    }

    fn renew(&mut self) -> Result<(), Failure> {
        match panic::call_caught(|| self.renew.fresh())? {
            Some(fresh) => panic::drop_caught(std::mem::replace(&mut self.service, fresh)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    /// A host holds, sorts and moves one of these per service before any starts.
    #[test]
    fn a_service_stays_small() {
        let size = std::mem::size_of::<super::Service>();
        // 128 bytes while the policy, schedule and queue were fields of their own, 72 while the
        // location was inline.
        assert!(size <= 56, "a Service grew to {size} bytes");
    }

    struct Idle;

    impl crate::HostedService for Idle {
        async fn run(&mut self, _ctx: &crate::Context) -> Result<(), crate::BoxError> {
            Ok(())
        }
    }

    /// The location is the caller's, or the one an attribute macro records with `at`.
    #[test]
    fn a_service_knows_where_it_was_made() {
        let (service, line) = (super::Service::hosted("idle", Idle), line!());
        let location = service.location();
        assert_eq!((location.file, location.line), (file!(), line));
        let service = service.at("src/jobs.rs", 12, 5);
        let at = crate::Location {
            file: "src/jobs.rs",
            line: 12,
            column: 5,
        };
        assert_eq!(service.location(), at);
        assert!(format!("{service:?}").contains("src/jobs.rs"), "{service:?}");
    }
}
