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
//! - [`Schedule::singleton`] + [`Builder::coordination`]: a periodic job whose every tick runs on
//!   one replica only, across processes sharing a PostgreSQL database ([`coordination`]).
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
//! - `postgres`: [singleton](Schedule::singleton) periodic jobs across replicas, coordinated
//!   through PostgreSQL (`host::postgres::Postgres`, see [`coordination`]).
#![warn(missing_docs)]

// The runtime, in the order data flows: what users write and build, the builder, the host's run,
// each service's task and its periodic loop, the shutdown; then what they share.
mod builder; // Builder: options, discovery, selection, validation
mod clock; // saturating deadlines, jitter, wall clock
mod context; // Context: what a service receives
pub mod coordination; // issue 14: singleton jobs across replicas (Coordination, CatchUp; postgres backend)
mod error; // Error, Failure, ServiceFailure
mod handle; // HostHandle, Phase: stop, lifetime, status
mod host; // Host::run: runtime checks, start in order, wait for a stop
mod location;
mod panic; // every service future and value polled and dropped with panics caught
mod params; // FromContext, FromRun: parameters of annotated functions
mod periodic; // the periodic loop
mod policy; // FailurePolicy, Restart
mod registry; // Registration, register!: discovery through inventory
mod report; // Report, Outcome, StopReason
mod schedule; // Schedule, Tick, MissedTicks; timeline (due instants), cron
mod service; // HostedService, Job, IntoResult: what users implement
mod shutdown; // the one shutdown path and its Report
mod slot; // Service: a named, configured, type-erased service
mod status; // the status snapshot (atomics)
mod supervisor; // one task per service: hooks, body, failure policies, restarts
mod watchdog; // signals and the shutdown deadline, watched from a thread of its own // Location

pub use builder::{Builder, DEFAULT_SHUTDOWN_TIMEOUT};
pub use context::Context;
#[cfg(feature = "postgres")]
pub use coordination::postgres; // issue 14
pub use coordination::{CatchUp, Coordination, CoordinationError, CoordinationState}; // issue 14
pub use error::{BoxError, Error, Failure, ServiceFailure};
pub use handle::{HostHandle, Phase};
pub use host::{Host, run};
pub use location::Location;
pub use params::{FromContext, FromRun};
pub use policy::{FailurePolicy, Restart};
pub use registry::Registration;
pub use report::{Outcome, Report, ServiceReport, StopReason};
#[cfg(feature = "cron")]
pub use schedule::cron;
pub use schedule::{MissedTicks, Schedule, ScheduleError, Tick};
pub use service::{HostedService, IntoResult, Job};
pub use slot::Service;
pub use status::{ServiceKind, ServiceStatus, State};
pub use watchdog::{FORCED_EXIT_CODE, SHUTDOWN_GRACE, STUCK_EXIT_CODE};

/// Re-exported for [`Schedule::upcoming`] and cron tests.
#[cfg(feature = "cron")]
pub use jiff;

// The macros' own rustdoc (in `host-macros`) carries every option table; inlined here, it is what
// `host::hosted_service` and `host::periodic` show on docs.rs.
#[doc(inline)]
pub use host_macros::hosted_service;

#[doc(inline)]
pub use host_macros::periodic;

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

    /// [`Service::hosted_with`](crate::Service::hosted_with) for a type registered with
    /// `#[hosted_service]`: the bound is [`RegisteredService`], so that a missing
    /// [`HostedService`](crate::HostedService) impl gets its message, once.
    #[track_caller]
    pub fn hosted_with<T: RegisteredService>(name: &'static str, constructor: fn() -> T) -> crate::Service {
        crate::Service::hosted_with(name, constructor)
    }

    /// What `#[hosted_service(new = path)]` accepts: a `fn() -> T`. The one place that decides
    /// which constructors are allowed (issue 10): to accept async, fallible or injected
    /// constructors later, widen this trait and [`construct`].
    #[diagnostic::on_unimplemented(
        message = "`new = …` must name a `fn() -> {T}`; this one returns `{Self}`",
        label = "returns `{Self}`, not `{T}`",
        note = "the constructor of a `#[hosted_service]` type is a plain `fn() -> Self`: not `async`, not \
                returning `Result`, no parameters; do fallible or async set-up in `HostedService::start`, which \
                may fail"
    )]
    pub trait ConstructorOutput<T> {
        /// The constructed value.
        fn into_service(self) -> T;
    }

    impl<T> ConstructorOutput<T> for T {
        fn into_service(self) -> T {
            self
        }
    }

    /// Calls the constructor named by `new = path`; see [`ConstructorOutput`].
    pub fn construct<T, R: ConstructorOutput<T>>(new: impl FnOnce() -> R) -> T {
        new().into_service()
    }
}
