//! Discovery: services registered at compile time through `inventory`.

use crate::error::Failure;
use crate::location::Location;
use crate::panic;
use crate::slot::Service;

/// A service registered for discovery by [`host::run`](crate::run) and
/// [`Builder::build`](crate::Builder::build).
///
/// The attribute macros submit one per annotated item. By hand, with the same effect:
///
/// ```
/// use host::{Registration, Service, Schedule};
/// use std::time::Duration;
///
/// fn heartbeat(name: &'static str) -> Service {
///     Service::periodic(name, Schedule::every(Duration::from_secs(10)), |_ctx, _tick| async {})
/// }
///
/// host::register!(Registration::new("heartbeat", file!(), line!(), column!(), heartbeat));
/// ```
#[derive(Debug)]
pub struct Registration {
    pub(crate) name: &'static str,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) factory: fn(&'static str) -> Service,
    /// `false` for `enabled = false`; configuration may switch it on.
    pub(crate) enabled: bool,
}

impl Registration {
    /// A registration of the service `factory` builds under `name`, defined at `file:line:column`.
    pub const fn new(
        name: &'static str,
        file: &'static str,
        line: u32,
        column: u32,
        factory: fn(&'static str) -> Service,
    ) -> Self {
        Registration {
            name,
            file,
            line,
            column,
            factory,
            enabled: true,
        }
    }

    /// Whether the host runs the service unless configuration says otherwise (default `true`):
    /// `false` registers it switched off (`enabled = false` in the attributes), never constructed
    /// unless the configuration file or environment switches it on.
    pub const fn enabled(mut self, yes: bool) -> Self {
        self.enabled = yes;
        self
    }

    /// The service's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

inventory::collect!(Registration);

/// Every registration, in link order. Nothing is constructed yet.
pub(crate) fn registrations() -> impl Iterator<Item = &'static Registration> {
    inventory::iter::<Registration>.into_iter()
}

impl Registration {
    pub(crate) fn location(&self) -> Location {
        Location {
            file: self.file,
            line: self.line,
            column: self.column,
        }
    }

    /// Builds the service; called only for registrations the host selected. A panic in the
    /// factory (the service's constructor) is returned.
    pub(crate) fn build(&self) -> Result<Service, Failure> {
        panic::call_caught(|| (self.factory)(self.name)).map(|s| s.at(self.file, self.line, self.column))
    }
}

/// Registers a service for discovery: `host::register!(Registration::new(…))`.
///
/// This is what `#[host::hosted_service]` and `#[host::periodic]` expand to; see [`Registration`].
#[macro_export]
macro_rules! register {
    ($registration:expr $(,)?) => {
        $crate::__private::inventory::submit! { $registration }
    };
}
