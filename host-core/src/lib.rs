//! # host: background hosted services for tokio
//!
//! Annotate an `async fn` (or a type), call [`run`], and the host finds every service, starts them
//! in a defined order, supervises them, and stops them gracefully on Ctrl+C / SIGTERM within a
//! bounded timeout: ASP.NET Core's hosted services (`IHostedService`, `BackgroundService`), done
//! the Rust way.
//!
//! ```no_run
//! #[host::periodic(every = "30s")]
//! async fn refresh_cache() -> anyhow::Result<()> {
//!     Ok(())
//! }
//!
//! #[host::hosted_service]
//! async fn mailer(ctx: host::Context) -> anyhow::Result<()> {
//!     ctx.cancelled().await;
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), host::Error> {
//!     host::run().await
//! }
//! ```
//!
//! ## The pieces
//!
//! - [`HostedService`]: start/stop hooks and a long-running body. [`Job`] + [`Schedule`]: periodic
//!   work. [`Service`]: either one, named and configured; what the macros generate and what you
//!   build by hand.
//! - [`Host::builder`]: explicit services, discovery, `only`/`except` selection, shutdown timeout,
//!   signal handling, default [`FailurePolicy`]. [`run`] is the builder with its defaults.
//! - [`Context`]: what each service receives: its name, a cancellation token (a child of the host's),
//!   and a [`HostHandle`] that can stop the host, await its [`Phase`]s and read the
//!   [status snapshot](HostHandle::status).
//! - [`queue`]: a typed, bounded background work queue (`#[queue_worker]` or
//!   [`queue::Queue::builder`]): backpressure, retries, dead letters, and a shutdown that drains it
//!   without losing an item; producers hold a [`queue::QueueHandle`].
//! - [`Error`]: every failure, typed, naming the service; [`Error::exit_code`] maps it to the exit
//!   codes in the README.
//!
//! ## Logging
//!
//! Every service runs inside a `tracing` span `service{name=…}`; the host logs `starting`,
//! `started`, `stopping` and `stopped` per service and `host started` once everything is up. Install
//! any `tracing` subscriber to see them.
//!
//! ## Cargo features
//!
//! - `cron` (default): cron schedules with IANA time zones ([`cron`] module).
//! - `signals` (default): SIGINT/SIGTERM handling (Ctrl+C on Windows).
#![warn(missing_docs)]

mod context;
#[cfg(feature = "cron")]
pub mod cron;
mod error;
mod handle;
mod host;
mod panic;
mod params;
mod periodic;
mod policy;
pub mod queue;
mod registry;
mod report;
mod runner;
mod schedule;
mod service;
mod signal;
mod status;

pub use context::Context;
pub use error::{BoxError, Error, Failure, ServiceFailure};
pub use handle::{HostHandle, Phase};
pub use host::{Builder, DEFAULT_SHUTDOWN_TIMEOUT, FORCED_EXIT_CODE, Host, run};
pub use params::{FromContext, FromRun};
pub use policy::{FailurePolicy, Restart};
pub use registry::Registration;
pub use report::{Outcome, Report, ServiceReport, StopReason};
pub use schedule::{MissedTicks, Schedule, ScheduleError, Tick};
pub use service::{HostedService, IntoResult, Job, Location, Service};
pub use status::{ServiceKind, ServiceStatus, State};

/// Re-exported for [`Schedule::upcoming`] and cron tests.
#[cfg(feature = "cron")]
pub use jiff;

/// Turns an `async fn` into a long-running hosted service, or registers a type that implements
/// [`HostedService`]. See the README for every option.
pub use host_macros::hosted_service;

/// Turns an `async fn` into a periodic service (`every`, `fixed_delay` or `cron`). See the README
/// for every option.
pub use host_macros::periodic;

/// Turns an `async fn(item: T, ctx: Context)` into the handler of a work queue of `T` items,
/// registered like the other services; producers find its handle with
/// [`HostHandle::queue`]. See the [`queue`] module and the README for every option.
pub use host_macros::queue_worker;

/// Every ```rust block of the README is compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// What the generated code uses. Not part of the public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::params::{FromContext, FromRun};
    pub use crate::service::IntoResult;
    pub use ::core;
    pub use ::inventory;
    pub use ::std::time::Duration;

    /// Every [`HostedService`](crate::HostedService); only here for the message when a type
    /// registered with `#[hosted_service]` lacks the impl. (Being a subtrait, it also lets rustc
    /// drop the same error from the generated `Service::hosted` call.)
    #[diagnostic::on_unimplemented(
        message = "`#[hosted_service]` registers `{Self}`, which does not implement `host::HostedService`",
        label = "no `impl host::HostedService for {Self}`",
        note = "implement `host::HostedService` for it (`start`, `run` and `stop` all have defaults), \
                or put `#[hosted_service]` on an `async fn` instead"
    )]
    pub trait RegisteredService: crate::HostedService {}

    impl<T: crate::HostedService> RegisteredService for T {}

    /// The service of a `#[queue_worker]` function; the call is spanned on the item type, so an
    /// item that cannot be queued is reported there, once.
    #[track_caller]
    pub fn queue_worker<T: crate::queue::QueueItem, H: crate::queue::Handler<T>>(
        name: &'static str,
        handler: H,
        configure: impl FnOnce(crate::queue::QueueBuilder<T, H>) -> crate::queue::QueueBuilder<T, H>,
    ) -> crate::Service {
        crate::queue::Queue::builder(name, handler)
            .configure(configure)
            .build()
            .0
    }

    /// Compile-time check that a type registered with `#[hosted_service]` implements
    /// [`HostedService`](crate::HostedService), with the message of [`RegisteredService`].
    pub const fn assert_registered_service<T: RegisteredService>() {}
}
