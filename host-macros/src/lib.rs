//! Attribute macros of the `host` crate: `#[host::hosted_service]` and `#[host::periodic]`.
//!
//! Use them through `host` (the `host-core` package), which re-exports them; the generated code
//! names the runtime as `::host` unless `crate = "…"` says otherwise.
//!
//! Each macro parses its options (`args`) and the annotated item (`item`), checks the options
//! against each other and against the item (`validate`), then generates the service and its
//! registration (`expand`). The user's item is always emitted unchanged, also next to errors, so
//! an IDE keeps working and rustc reports no follow-up errors.

mod args;
mod cron;
mod diag;
mod duration;
mod expand;
mod item;
mod queue;
mod validate;

use proc_macro::TokenStream;
use quote::quote;

use crate::args::Attr;

/// Turns an `async fn` into a long-running hosted service, or registers a struct or enum that
/// implements `host::HostedService`.
///
/// ```
/// use host::{BoxError, Context, HostedService};
///
/// /// Runs until the host stops; its token is cancelled at shutdown.
/// #[host::hosted_service(order = 10, on_failure = restart(initial = "1s", max = "30s"))]
/// async fn mailer(ctx: Context) -> Result<(), BoxError> {
///     ctx.cancelled().await;
///     Ok(())
/// }
///
/// /// A type with `start` / `run` / `stop` hooks, built by `Metrics::new`.
/// #[host::hosted_service(name = "metrics", new = Metrics::new)]
/// struct Metrics;
///
/// impl Metrics {
///     fn new() -> Self {
///         Metrics
///     }
/// }
///
/// impl HostedService for Metrics {}
/// # fn main() {}
/// ```
///
/// It goes on a free `async fn` at module level (parameters: `host::Context` or `&Context`,
/// `host::Dep<T>` for a value given to `Host::builder().provide(…)`, or any type implementing
/// `host::FromContext`; returns `()` or `Result<(), E>`), or on a struct or
/// enum that implements `host::HostedService`. Services are found by [`inventory`] at start-up:
/// a service declared in a library crate is only linked in if the binary uses that library
/// (`use my_lib as _;`).
///
/// # Options
///
#[doc = include_str!("../docs/common-options.md")]
///
/// On a struct or enum:
///
/// | option | meaning | default |
/// |---|---|---|
/// | `new = path::to::constructor` | the constructor: a `fn` or `async fn` returning `Self` or `Result<Self, E>`, whose parameters are `host::Dep<T>` (values given to `Host::builder().provide(…)`); a plain or fallible one runs when the host is built (an error stops it there), an `async` one on the service's task just before `start`; each restart constructs a fresh value | `Default::default` |
///
/// [`inventory`]: https://docs.rs/inventory
#[proc_macro_attribute]
pub fn hosted_service(args: TokenStream, item: TokenStream) -> TokenStream {
    generate(Attr::HostedService, args, item)
}

/// Turns an `async fn` into a periodic service: one run per tick, never overlapping itself.
///
/// ```
/// use host::{Context, Tick};
///
/// /// Every 30 s from start, each run at most 20 s long.
/// #[host::periodic(every = "30s", timeout = "20s")]
/// async fn refresh_cache(tick: Tick) -> Result<(), std::io::Error> {
///     let _ = tick.run();
///     Ok(())
/// }
///
/// /// 02:30 every day, Berlin time; the service fails after 3 failed runs in a row.
/// #[host::periodic(cron = "30 2 * * *", tz = "Europe/Berlin", max_failures = 3)]
/// async fn nightly_cleanup(ctx: &Context) {
///     let _ = ctx.name();
/// }
/// # fn main() {}
/// ```
///
/// It goes on a free `async fn` at module level; parameters are `host::Context` or `&Context`,
/// `host::Tick` (run number, scheduled instant, lateness), `host::Dep<T>` for a value given to
/// `Host::builder().provide(…)`, or any type implementing `host::FromRun`; it returns `()` or
/// `Result<(), E>`.
///
/// **Failed runs.** A run that returns `Err`, panics or times out is logged at `ERROR` and
/// counted in the status; the schedule goes on, and the service does not fail, so the process
/// still exits 0 at a clean shutdown. With `max_failures = N`, N failed runs in a row make the
/// service fail, and `on_failure` applies (by default `stop-host`: exit code 1).
///
/// # Schedule: exactly one of
///
/// | option | meaning | default |
/// |---|---|---|
/// | `every = "30s"` | fixed rate: first run at start, then on a grid that does not drift | |
/// | `fixed_delay = "10s"` | a pause of this length after each run ends; first run at start | |
/// | `cron = "0 30 2 * * *"` | a cron expression: 5 fields (`minute hour day month weekday`) or 6 with `second` first; a 7th (year) field is rejected; one that can never fire (`0 0 30 2 *`) is a compile error | |
///
/// # Options
///
/// | option | meaning | default |
/// |---|---|---|
/// | `tz = "Europe/Berlin"` | the IANA zone a `cron` is evaluated in, checked at compile time | `UTC` |
/// | `initial_delay = "5s"` | delay before the first run (without it the first run is at start) | none |
/// | `jitter = "2s"` | a random delay in `[0, jitter)` per run and per service, so replicas do not fire together; shorter than the period, or than the shortest interval between two runs of the `cron` | none |
/// | `missed_ticks = "skip"` / `"burst"` / `"delay"` | what to do with ticks missed while a run overran or the process stalled: drop them and stay on the grid / run each one / run one and restart the grid from it | `skip` |
/// | `timeout = "20s"` | per run: at the timeout the run's token is cancelled, its future dropped, and the run counts as failed | none |
/// | `max_failures = 3` | consecutive failed runs after which the service has failed and `on_failure` applies | unlimited: failed runs are logged and counted, the schedule goes on |
/// | `singleton` | each tick runs on one replica only, coordinated through the database given to `Builder::coordination` (PostgreSQL, cargo feature `postgres`); with `every` (ticks then fall on multiples of the period since the Unix epoch) or `cron`, on the database's clock; see "Running several replicas" | off: every replica runs every tick |
/// | `catch_up = "once"` / `"skip"` | with `singleton`: when the first replica comes back after every replica was down over a tick, run the current tick at once (one run for all the missed ticks) / skip the missed ticks | `skip` |
/// | `lease = "30s"` | with `singleton`: how long a run's claim lasts unrenewed; renewed every third of it while the run lasts, so a replica killed mid-run blocks the job at most this long | `30s` |
///
#[doc = include_str!("../docs/common-options.md")]
///
/// # Durations
///
/// A number and a unit: `ms`, `s`, `m` (minutes), `h`, `d`, `w`, or spelt out (`sec`, `min`,
/// `hours`, `days`, `weeks`), combined like `"1m 30s"`; checked at compile time. A missing or
/// unknown unit, zero, less than 1 ms or more than 365 days is an error on the literal, and so are
/// `M` (months, easily meant as minutes), months and years (no fixed length), uppercase units
/// (`"30S"`), and clock or ISO 8601 notation (`"00:00:30"`, `"PT30S"`): each error names the
/// intended spelling.
#[proc_macro_attribute]
pub fn periodic(args: TokenStream, item: TokenStream) -> TokenStream {
    generate(Attr::Periodic, args, item)
}

/// Parse → validate → expand, and the one place errors become tokens: the user's item is emitted
/// in every case, followed by the generated code or by every error found.
fn generate(attr: Attr, args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let args = args::parse(attr, args.into());
    let target = item::parse(attr, item.clone());
    let generated = diag::both(args, target)
        .and_then(|(args, target)| validate::config(attr, args, target))
        .map(|config| expand::service(&config))
        .unwrap_or_else(syn::Error::into_compile_error);
    quote!(#item #generated).into()
}

/// Turns an `async fn(item: T, …)` into the handler of a work queue of `T` items (see
/// `host::queue`), registered like the other services.
#[proc_macro_attribute]
pub fn queue_worker(args: TokenStream, item: TokenStream) -> TokenStream {
    queue::queue_worker(args.into(), item.into()).into()
}
