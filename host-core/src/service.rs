//! What users implement: [`HostedService`] (hooks and a long-running body), [`Job`] (one periodic
//! run), and [`IntoResult`] (what their functions may return).

use std::future::Future;

use crate::context::Context;
use crate::error::BoxError;
use crate::schedule::Tick;

/// A hosted service: optional start and stop hooks around an optional long-running body.
///
/// This one trait covers both of .NET's shapes:
/// - `BackgroundService`: implement [`run`](HostedService::run), a body that works until
///   `ctx.cancelled()` completes;
/// - `IHostedService`: implement [`start`](HostedService::start) and [`stop`](HostedService::stop).
///
/// Each service lives on its own task: `start`, then `run`, then (at shutdown) `stop`. The host
/// starts services one after another in start order, each once the previous one's `start` has
/// returned; a body never delays another service's start. At shutdown every token is cancelled,
/// the bodies end concurrently, and the `stop` hooks run in reverse start order, all within the
/// shutdown timeout (see [`Host::run`](crate::Host::run)). Hooks may block their thread without
/// freezing signal handling or the shutdown bound.
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
/// its [`FailurePolicy`](crate::FailurePolicy) decides what happens next. Under `restart`, a restart
/// is a fresh start: `stop` on the failed value, a fresh value from the constructor where the
/// service has one ([`Service::hosted_with`](crate::Service::hosted_with), `#[hosted_service]` on a
/// type), then `start` and `run` again.
pub trait HostedService: Send + 'static {
    /// Whether the host runs [`start`](HostedService::start) and [`stop`](HostedService::stop)
    /// (default `true`).
    ///
    /// A service that implements neither can say `const HOOKS: bool = false;`: the host then
    /// starts it without waiting for a start hook (its task is spawned and the next service
    /// starts at once) and gives it no stop turn, which makes starting many services several
    /// times faster. `#[host::hosted_service]` on an `async fn` does this. With `false`, `start`
    /// and `stop` are never called, even if implemented.
    const HOOKS: bool = true;

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
