//! The host's error type, the error type of services, and failure causes.

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use crate::location::Location;
use crate::report::Report;

/// The error a service's hook or body may return: any `std::error::Error` that is `Send + Sync`.
///
/// `anyhow::Error`, `Box<dyn Error + Send + Sync>` and your own `thiserror` types all convert into it
/// with `?` or `.into()`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why one run of a service ended badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The service returned an error.
    #[error("{}", Chain(.0.as_ref()))]
    Error(#[source] BoxError),
    /// The service panicked; the payload's message, if it was a string.
    #[error("panicked: {0}")]
    Panic(String),
    /// A periodic run exceeded its per-run timeout and was cancelled.
    #[error("run timed out after {}", humanize(*.0))]
    Timeout(Duration),
}

impl Failure {
    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "(a panic payload that is not a string)".to_owned()
        };
        Failure::Panic(message)
    }
}

/// A service that failed, with the cause.
#[derive(Debug)]
pub struct ServiceFailure {
    /// The service's name.
    pub service: String,
    /// What went wrong.
    pub failure: Failure,
}

impl fmt::Display for ServiceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.service, self.failure)
    }
}

/// Everything that can make [`run`](crate::run) or [`Host::run`](crate::Host::run) fail.
///
/// Each variant that concerns a service names it. [`Error::exit_code`] maps the variant to the
/// process exit code documented in the README.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two services share a name.
    #[error("two services are named `{name}`: one at {first}, one at {second}; give one of them another `name`")]
    DuplicateName {
        /// The name both services have.
        name: String,
        /// Where the first one is defined.
        first: Location,
        /// Where the second one is defined.
        second: Location,
    },
    /// A service's name is empty or blank.
    #[error("the service defined at {location} has an empty or blank name `{name}`; give it a name (`name = \"…\"`)")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Where the service is defined.
        location: Location,
    },
    /// The host has no service: nothing was discovered and none was added by hand.
    #[error(
        "no service to run: none was discovered and none was added. If your services are declared in a library \
         crate, the binary must reference that crate or the linker drops their registrations: add \
         `use my_lib as _;` (your library's name) to `main.rs`. To run an empty host on purpose, use \
         `Host::builder().allow_empty(true)`"
    )]
    NoServices,
    /// More services than a host can index (`u32::MAX`, over 200 GB of them).
    #[error("{count} services are more than a host can run (at most {max}); split them across hosts", max = u32::MAX)]
    TooManyServices {
        /// How many were given.
        count: usize,
    },
    /// `only([])` selects no service at all.
    #[error("`only` was given no names, which would run no service; name at least one service, or drop `only`")]
    EmptySelection,
    /// A registered service's constructor panicked while the host was being built.
    #[error("service `{service}` could not be constructed: {source}")]
    Constructor {
        /// The service.
        service: String,
        /// The panic.
        #[source]
        source: Failure,
    },
    /// Services ask for values (a [`Dep<T>`](crate::Dep) parameter) that were never given to
    /// [`Builder::provide`](crate::Builder::provide); every service was checked, and nothing was
    /// constructed.
    #[error(
        "{}; provided types: {}; add `.provide(value)` to the host's builder",
        missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        provided_list(provided)
    )]
    MissingDependency {
        /// Each service's first parameter whose value is missing, in start order.
        missing: Vec<crate::inject::Unprovided>,
        /// The types that were provided, sorted.
        provided: Vec<&'static str>,
    },
    /// The configuration file or environment has an invalid value, or names a service or option
    /// that does not exist (feature `config`).
    #[cfg(feature = "config")]
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// [`Host::run`](crate::Host::run) was polled outside a tokio runtime.
    #[error(
        "the host must run inside a tokio runtime: use `#[tokio::main]` on `main` (or `Runtime::block_on`), \
         with tokio's `rt-multi-thread` (or `rt`) and `macros` features"
    )]
    NoRuntime,
    /// The tokio runtime was built without its time driver.
    #[error(
        "the tokio runtime has no time driver, which timeouts and schedules need: build it with \
         `enable_all()` (or `enable_time()`); `#[tokio::main]` enables it"
    )]
    NoTimeDriver,
    /// `only`/`except` named a service that does not exist.
    #[error("no service is named `{name}`; known services: {}", list(known))]
    UnknownService {
        /// The name that was given.
        name: String,
        /// Every service name the host knows, sorted.
        known: Vec<String>,
    },
    /// A periodic service's schedule is invalid (for example a cron expression or time zone).
    #[error("service `{service}` has an invalid schedule: {source}")]
    InvalidSchedule {
        /// The service.
        service: String,
        /// What is wrong with the schedule.
        #[source]
        source: crate::schedule::ScheduleError,
    },
    /// The coordination configured on the builder is invalid (a database URL that does
    /// not parse, say).
    #[error("invalid coordination configuration: {reason}")]
    InvalidCoordination {
        /// What is wrong.
        reason: String,
    },
    /// A start hook failed; services that had started were stopped again.
    #[error("service `{service}` failed to start: {source}")]
    StartFailed {
        /// The service whose start hook failed.
        service: String,
        /// The cause.
        #[source]
        source: Failure,
        /// How the services that had started were stopped.
        report: Box<Report>,
    },
    /// One or more services failed under the `stop-host` policy (or failed while stopping).
    #[error("{} failed: {}", plural(failures.len()), list(failures))]
    ServiceFailed {
        /// Every failure, in the order they happened.
        failures: Vec<ServiceFailure>,
        /// How the host shut down.
        report: Box<Report>,
    },
    /// The shutdown timeout ran out; these services were aborted.
    #[error("shutdown timed out after {}; aborted: {}", humanize(*timeout), list(stragglers))]
    ShutdownTimeout {
        /// The configured shutdown timeout.
        timeout: Duration,
        /// The services that had not stopped, in reverse start order.
        stragglers: Vec<String>,
        /// How the host shut down.
        report: Box<Report>,
    },
}

impl Error {
    /// The process exit code this error stands for (see the README's exit-code table).
    ///
    /// | code | meaning |
    /// |---|---|
    /// | 1 | a service failed ([`Error::ServiceFailed`], [`Error::StartFailed`], [`Error::Constructor`]) |
    /// | 2 | invalid configuration or set-up ([`Error::DuplicateName`], [`Error::UnknownService`], [`Error::InvalidSchedule`], [`Error::InvalidName`], [`Error::MissingDependency`], `Error::Config`, [`Error::InvalidCoordination`], [`Error::NoServices`], [`Error::TooManyServices`], [`Error::EmptySelection`], [`Error::NoRuntime`], [`Error::NoTimeDriver`]) |
    /// | 3 | the shutdown timeout ran out ([`Error::ShutdownTimeout`]) |
    ///
    /// A clean shutdown is 0; a second signal during shutdown exits at once with
    /// [`FORCED_EXIT_CODE`](crate::FORCED_EXIT_CODE), and a process still alive at the shutdown
    /// timeout plus [`SHUTDOWN_GRACE`](crate::SHUTDOWN_GRACE) with
    /// [`STUCK_EXIT_CODE`](crate::STUCK_EXIT_CODE) (both only for a host that owns its process).
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::ServiceFailed { .. } | Error::StartFailed { .. } | Error::Constructor { .. } => 1,
            Error::DuplicateName { .. }
            | Error::UnknownService { .. }
            | Error::InvalidSchedule { .. }
            | Error::InvalidName { .. }
            | Error::MissingDependency { .. }
            | Error::InvalidCoordination { .. }
            | Error::NoServices
            | Error::TooManyServices { .. }
            | Error::EmptySelection
            | Error::NoRuntime
            | Error::NoTimeDriver => 2,
            #[cfg(feature = "config")]
            Error::Config(_) => 2,
            Error::ShutdownTimeout { .. } => 3,
        })
    }

    /// The shutdown report, for the variants that happen after start-up began.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Error::StartFailed { report, .. }
            | Error::ServiceFailed { report, .. }
            | Error::ShutdownTimeout { report, .. } => Some(report),
            _ => None,
        }
    }
}

/// `Debug` shows the message, so `fn main() -> Result<(), host::Error>` prints a readable line.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Displays an error with its `source()` chain: `outer: inner: innermost`.
pub(crate) struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&item.to_string());
    }
    out
}

fn provided_list(provided: &[&'static str]) -> String {
    if provided.is_empty() {
        "none".to_owned()
    } else {
        provided.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 service".to_owned()
    } else {
        format!("{n} services")
    }
}

pub(crate) fn humanize(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(d)
}
