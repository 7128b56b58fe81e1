//! What the parameters of an annotated `async fn` may be.
//!
//! `#[host::hosted_service]` fills each parameter through [`FromContext`]; `#[host::periodic]`
//! through [`FromRun`], which also offers the run's [`Tick`]. Implement [`FromContext`] for your own
//! type to make it injectable (for example a handle cloned out of a global).

use crate::context::Context;
use crate::schedule::Tick;

/// A parameter of a `#[host::hosted_service]` (or `#[host::periodic]`) function.
///
/// Implemented for [`Context`] (a clone) and `&Context`.
///
/// ```
/// struct Shutdown(tokio_util::sync::CancellationToken);
///
/// impl<'a> host::FromContext<'a> for Shutdown {
///     fn from_context(ctx: &'a host::Context) -> Self {
///         Shutdown(ctx.token().clone())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a `#[hosted_service]` function",
    label = "the host does not know how to supply this parameter",
    note = "supported parameter types: `host::Context`, `&host::Context`, `host::Dep<T>` (a value given to `Host::builder().provide(…)`), or a type that implements `host::FromContext`"
)]
pub trait FromContext<'a>: Sized {
    /// Builds the parameter from the service's context.
    fn from_context(ctx: &'a Context) -> Self;
}

impl<'a> FromContext<'a> for Context {
    fn from_context(ctx: &'a Context) -> Self {
        ctx.clone()
    }
}

impl<'a> FromContext<'a> for &'a Context {
    fn from_context(ctx: &'a Context) -> Self {
        ctx
    }
}

/// A parameter of a `#[host::periodic]` function: anything [`FromContext`], plus [`Tick`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of a `#[periodic]` function",
    label = "the host does not know how to supply this parameter",
    note = "supported parameter types: `host::Context`, `&host::Context`, `host::Tick`, `host::Dep<T>` (a value given to `Host::builder().provide(…)`), or a type that implements `host::FromContext`"
)]
pub trait FromRun<'a>: Sized {
    /// Builds the parameter from the service's context and the current run's tick.
    fn from_run(ctx: &'a Context, tick: &'a Tick) -> Self;
}

impl<'a, T: FromContext<'a>> FromRun<'a> for T {
    fn from_run(ctx: &'a Context, _tick: &'a Tick) -> Self {
        T::from_context(ctx)
    }
}

impl<'a> FromRun<'a> for Tick {
    fn from_run(_ctx: &'a Context, tick: &'a Tick) -> Self {
        *tick
    }
}
