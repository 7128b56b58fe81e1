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
//! - [`Builder::provide`] and [`Dep<T>`]: shared values (a pool, a client, settings) injected into
//!   annotated functions, `new = path` constructors (which may be fallible and `async`) and
//!   [`Service::hosted_from`] / [`Service::periodic_from`]; resolved and checked by `build()`
//!   ([`inject`]).
//! - [`config`] (feature `config`): per-service overrides of every tunable option from `host.toml`
//!   and `HOST_<SERVICE>_<OPTION>` variables, read by [`run`] by default; [`parse_duration`] is the
//!   attributes' duration grammar for your own settings.
//! - [`Context`]: what each service receives: its name, a cancellation token (a child of the host's),
//!   and a [`HostHandle`] that can stop the host, await its [`Phase`]s and read the
//!   [status snapshot](HostHandle::status).
//! - [`queue`]: a typed, bounded background work queue (`#[queue_worker]` or
//!   [`queue::Queue::builder`]): backpressure, retries, dead letters, and a shutdown that drains it
//!   without losing an item; producers hold a [`queue::QueueHandle`].
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
//! - `config` (default): per-service overrides from `host.toml` and `HOST_*` variables ([`config`] module).
//! - `testing`: the [`testing`] module, your services in virtual time (for `[dev-dependencies]`).
//! - `http`: health, readiness and status endpoints and a dashboard, as an axum router
//!   (`host::http`).
//! - `metrics`: counters, histograms and a state gauge per service through the `metrics` facade
//!   (`host::metrics`).
//! - `systemd`: `READY`, `STATUS`, `STOPPING` and watchdog notifications (`host::systemd`).
//! - `postgres`: [singleton](Schedule::singleton) periodic jobs across replicas, coordinated
//!   through PostgreSQL (`host::postgres::Postgres`, see [`coordination`]).
#![warn(missing_docs)]

// The runtime, as data flows (the modules themselves are listed alphabetically below):
// service, params (what users write) → slot (Service) → registry (discovery) → builder (options,
// selection, validation) → host (start in order, wait) → supervisor (one task per service: hooks,
// body, policies) → periodic (the loop; schedule/ for timeline and cron) → shutdown (the one
// path, its Report); watchdog (signals and the deadline from a thread of its own); shared:
// context, handle, status, report, policy, error, panic, clock, location; inject
// (shared values) and config (overrides) feed the builder; queue (work queues); integrations:
// http, metrics, systemd; testing (the kit).
mod builder; // Builder: options, discovery, selection, validation
mod clock; // saturating deadlines, jitter, back-off, wall clock, RFC 3339 times
#[cfg(feature = "config")]
pub mod config; // host.toml and HOST_* variables over the attributes
mod context; // Context: what a service receives
pub mod coordination; // Singleton jobs across replicas (Coordination, CatchUp; postgres backend)
mod error; // Error, Failure, ServiceFailure
mod handle; // HostHandle, Phase: stop, lifetime, status
mod host; // Host::run: runtime checks, start in order, wait for a stop
#[cfg(feature = "http")]
pub mod http; // health, readiness, status endpoints and the dashboard (axum)
pub mod inject; // Dep, Provided, constructors: shared values handed to services
mod location; // Location: where a service was defined
#[cfg(feature = "metrics")]
pub mod metrics; // per-service counters, histograms and a state gauge (metrics facade)
mod panic; // every service future and value polled and dropped with panics caught
mod params; // FromContext, FromRun: parameters of annotated functions
mod periodic; // the periodic loop
mod policy; // FailurePolicy, Restart
pub mod queue; // a typed, bounded, supervised work queue drained at shutdown
mod registry; // Registration, register!: discovery through inventory
mod report; // Report, Outcome, StopReason
mod schedule; // Schedule, Tick, MissedTicks; timeline (due instants), cron
mod service; // HostedService, Job, IntoResult: what users implement
mod shutdown; // the one shutdown path and its Report
mod slot; // Service: a named, configured, type-erased service
mod status; // the status snapshot (atomics)
mod supervisor; // one task per service: hooks, body, failure policies, restarts
#[cfg(feature = "systemd")]
pub mod systemd; // READY, STATUS, STOPPING and watchdog notifications
#[cfg(feature = "testing")]
pub mod testing; // TestHost: your services in virtual time
mod watchdog; // signals and the shutdown deadline, watched from a thread of its own

pub use builder::{Builder, DEFAULT_SHUTDOWN_TIMEOUT};
#[cfg(feature = "config")]
pub use config::ConfigError;
pub use context::{Cancelled, Context};
#[cfg(feature = "postgres")]
pub use coordination::postgres;
pub use coordination::{CatchUp, Coordination, CoordinationError, CoordinationState};
pub use error::{BoxError, Error, Failure, ServiceFailure};
pub use handle::{HostHandle, Phase};
pub use host::{Host, run};
pub use inject::Dep;

/// Parses a duration with the grammar of the attributes and the configuration (`"30s"`, `"1m 30s"`,
/// `"2h"`; 1 ms to 365 days; `"5M"`, `"30S"`, `"00:00:30"` and `"PT30S"` are errors naming the
/// intended spelling), so that your own settings read the way the host's do.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(host::parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
/// let error = host::parse_duration("5M").unwrap_err().to_string();
/// assert!(error.contains("did you mean `\"5m\"`"), "{error}");
/// ```
pub fn parse_duration(text: &str) -> Result<std::time::Duration, DurationError> {
    host_syntax::parse_duration(text)
}

pub use host_syntax::DurationError;

/// Parses and checks a cron expression with the checks of the attributes and the configuration
/// (field errors naming the field, expressions that never fire, 5 or 6 fields), as a UTC
/// [`Schedule`]; add [`Schedule::tz`] and the other options as needed.
///
/// ```
/// let nightly = host::parse_cron("30 2 * * *")?.tz("Europe/Berlin");
/// assert_eq!(nightly.to_string(), "cron `30 2 * * *` (Europe/Berlin)");
/// assert!(host::parse_cron("0 0 30 2 *").unwrap_err().to_string().contains("never fires"));
/// # Ok::<(), host::ScheduleError>(())
/// ```
#[cfg(feature = "cron")]
pub fn parse_cron(expr: &str) -> Result<Schedule, ScheduleError> {
    let schedule = Schedule::cron(expr);
    schedule.validate()?;
    Ok(schedule)
}
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

    /// [`Service::hosted_with`](crate::Service::hosted_with) for a type registered with
    /// `#[hosted_service]`: the bound is [`RegisteredService`], so that a missing
    /// [`HostedService`](crate::HostedService) impl gets its message, once.
    #[track_caller]
    pub fn hosted_with<T: RegisteredService>(name: &'static str, constructor: fn() -> T) -> crate::Service {
        crate::Service::hosted_with(name, constructor)
    }

    /// `#[hosted_service(new = path)]`: which constructors are accepted is decided in one place,
    /// [`Constructor`](crate::inject::Constructor) (injected, fallible, async).
    #[track_caller]
    pub fn hosted_from<S, A, M, C>(name: &'static str, constructor: C) -> crate::Service
    where
        S: RegisteredService,
        C: crate::inject::Constructor<S, A, M>,
        A: 'static,
        M: 'static,
    {
        crate::Service::hosted_from(name, constructor)
    }

    pub use crate::inject::params::{HostedParam, ParamState, RunParam, mismatch};
    pub use crate::inject::{Missing, Provided};

    /// `#[hosted_service] async fn`: the generated service, built from provided values.
    pub fn hosted_fn<S: crate::HostedService>(
        name: &'static str,
        build: impl Fn(&Provided) -> Result<S, Missing> + Copy + Send + 'static,
    ) -> crate::Service {
        crate::inject::hosted_fn(name, build)
    }

    /// `#[periodic] async fn`: the generated job, built from provided values.
    pub fn periodic_fn<J: crate::Job>(
        name: &'static str,
        schedule: crate::Schedule,
        build: impl Fn(&Provided) -> Result<J, Missing> + Copy + Send + 'static,
    ) -> crate::Service {
        crate::inject::periodic_fn(name, schedule, build)
    }

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
}

/// A context for the crate's unit tests.
#[cfg(test)]
pub(crate) fn testing_ctx() -> Context {
    let handle = HostHandle::new(None, DEFAULT_SHUTDOWN_TIMEOUT);
    let status = status::StatusCell::new("x", ServiceKind::Periodic, None, FailurePolicy::StopHost);
    Context::new(std::sync::Arc::new(context::ServiceShared::new(
        "x".into(),
        handle,
        status,
    )))
}
