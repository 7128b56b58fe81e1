//! The service model: [`HostedService`] (hooks and a long-running body), [`Job`] (one periodic run),
//! and [`Service`], the named, configured value the host runs.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::context::Context;
use crate::error::BoxError;
use crate::policy::FailurePolicy;
use crate::schedule::{Schedule, Tick};
use crate::status::ServiceKind;

/// A hosted service: optional start and stop hooks around an optional long-running body.
///
/// This one trait covers both of .NET's shapes:
/// - `BackgroundService`: implement [`run`](HostedService::run), a body that works until
///   `ctx.cancelled()` completes;
/// - `IHostedService`: implement [`start`](HostedService::start) and [`stop`](HostedService::stop).
///
/// The host calls `start` hooks one after another in start order; as soon as a service's `start`
/// returns, its `run` body is spawned on its own task, so a body never delays another service's
/// start. At shutdown every token is cancelled, the bodies are awaited, and the `stop` hooks run
/// in reverse start order, all within the shutdown timeout.
///
/// `#[host::hosted_service]` on an `async fn` generates an implementation of this trait; on a type
/// that implements it, it registers the type. By hand, the same service is:
///
/// ```
/// use host::{Context, HostedService, Service, BoxError};
///
/// #[derive(Default)]
/// struct Mailer { sent: u64 }
///
/// impl HostedService for Mailer {
///     async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
///         tracing::info!(service = ctx.name(), "connecting to the SMTP relay");
///         Ok(())
///     }
///     async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
///         ctx.cancelled().await;
///         Ok(())
///     }
///     async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
///         tracing::info!(sent = self.sent, "mailer flushed");
///         Ok(())
///     }
/// }
///
/// # async fn demo() -> Result<(), host::Error> {
/// host::Host::builder()
///     .service(Service::hosted("mailer", Mailer::default()))
///     .build()?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
///
/// A body that returns `Ok(())` before it is cancelled has simply finished; the service keeps its
/// place until shutdown, when its `stop` hook runs. A body that returns `Err` or panics has failed:
/// its [`FailurePolicy`] decides what happens next.
pub trait HostedService: Send + 'static {
    /// Runs once at start-up, in start order; the host waits for it before starting the next
    /// service. An error aborts start-up: services already started are stopped in reverse order.
    fn start(&mut self, ctx: &Context) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// The long-running body, spawned on its own task after `start`. It should return soon after
    /// `ctx.cancelled()` completes. The default waits for cancellation.
    fn run(&mut self, ctx: &Context) -> impl Future<Output = Result<(), BoxError>> + Send {
        async move {
            ctx.cancelled().await;
            Ok(())
        }
    }

    /// Runs once at shutdown, after the body has ended, in reverse start order.
    fn stop(&mut self, ctx: &Context) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = ctx;
        async { Ok(()) }
    }
}

/// One run of a periodic service.
///
/// Implemented for every closure `FnMut(Context, Tick) -> impl Future<Output = R>` where `R` is
/// `()` or `Result<(), E>` with `E: Into<BoxError>`, and by `#[host::periodic]` for an `async fn`.
/// The host never runs two runs of one job at the same time: `run` takes `&mut self`.
///
/// ```
/// use host::{Context, Schedule, Service, Tick};
/// use std::time::Duration;
///
/// let svc = Service::periodic("refresh-cache", Schedule::every(Duration::from_secs(30)), |ctx: Context, tick: Tick| async move {
///     tracing::info!(service = ctx.name(), run = tick.run(), "refreshing");
///     Ok::<_, std::io::Error>(())
/// });
/// ```
pub trait Job: Send + 'static {
    /// Performs one run. `ctx` is cancelled when the host shuts down or the run times out.
    fn run(&mut self, ctx: &Context, tick: Tick) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl<F, Fut, R> Job for F
where
    F: FnMut(Context, Tick) -> Fut + Send + 'static,
    Fut: Future<Output = R> + Send,
    R: IntoResult,
{
    fn run(&mut self, ctx: &Context, tick: Tick) -> impl Future<Output = Result<(), BoxError>> + Send {
        IntoResultFuture {
            fut: self(ctx.clone(), tick),
        }
    }
}

pin_project_lite::pin_project! {
    /// The closure's future with its output mapped through [`IntoResult`]: a named future rather
    /// than an `async` block, which would store the closure's future twice in every task.
    pub(crate) struct IntoResultFuture<F> {
        #[pin]
        pub(crate) fut: F,
    }
}

impl<F: Future<Output: IntoResult>> Future for IntoResultFuture<F> {
    type Output = Result<(), BoxError>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        self.project().fut.poll(cx).map(IntoResult::into_result)
    }
}

/// What a service function may return: `()` or `Result<(), E>` where `E` converts into
/// [`BoxError`] (`anyhow::Error`, `Box<dyn Error + Send + Sync>`, any `std::error::Error + Send +
/// Sync + 'static`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a supported return type for a hosted or periodic service",
    label = "unsupported return type",
    note = "return `()` or `Result<(), E>` where `E` converts into `Box<dyn std::error::Error + Send + Sync>` (e.g. `anyhow::Result<()>`)"
)]
pub trait IntoResult {
    /// Converts the function's output into the host's result type.
    fn into_result(self) -> Result<(), BoxError>;
}

impl IntoResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E: Into<BoxError>> IntoResult for Result<(), E> {
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Where a service was defined: the attribute's position, or the caller of [`Service::hosted`] /
/// [`Service::periodic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// Source file.
    pub file: &'static str,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

impl From<&'static std::panic::Location<'static>> for Location {
    fn from(l: &'static std::panic::Location<'static>) -> Self {
        Location {
            file: l.file(),
            line: l.line(),
            column: l.column(),
        }
    }
}

/// A named, configured service, ready to hand to [`Builder::service`](crate::Builder::service).
///
/// This is what the attribute macros produce for every annotated item, and what you build by hand
/// for services created at run time (for example from configuration).
#[must_use = "a Service does nothing until it is given to `Host::builder().service(…)`"]
pub struct Service {
    pub(crate) name: Arc<str>,
    pub(crate) location: Location,
    pub(crate) order: i32,
    pub(crate) policy: Option<FailurePolicy>,
    pub(crate) kind: ServiceKind,
    pub(crate) slot: Box<dyn crate::runner::Slot>,
    /// Set when the service is a work queue, for [`HostHandle::queue`](crate::HostHandle::queue).
    pub(crate) queue: Option<Arc<dyn crate::queue::registry::AnyQueue>>,
}

impl Service {
    /// A [`HostedService`] under `name`.
    #[track_caller]
    pub fn hosted(name: impl Into<Arc<str>>, service: impl HostedService) -> Self {
        Self::new(
            name.into(),
            ServiceKind::Hosted,
            Box::new(crate::runner::HostedSlot(service)),
        )
    }

    /// A periodic service: `job` runs on `schedule`, never overlapping itself.
    #[track_caller]
    pub fn periodic(name: impl Into<Arc<str>>, schedule: Schedule, job: impl Job) -> Self {
        Self::new(name.into(), ServiceKind::Periodic, crate::periodic::slot(schedule, job))
    }

    #[track_caller]
    fn new(name: Arc<str>, kind: ServiceKind, slot: Box<dyn crate::runner::Slot>) -> Self {
        Service {
            name,
            location: std::panic::Location::caller().into(),
            order: 0,
            policy: None,
            kind,
            slot,
            queue: None,
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
        self.policy = Some(policy);
        self
    }

    /// Overrides the recorded source location (used by the attribute macros).
    #[doc(hidden)]
    pub fn at(mut self, file: &'static str, line: u32, column: u32) -> Self {
        self.location = Location { file, line, column };
        self
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the service was defined.
    pub fn location(&self) -> Location {
        self.location
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("order", &self.order)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}
