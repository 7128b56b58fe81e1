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
/// implements `host::HostedService`. See the `host` crate for every option.
#[proc_macro_attribute]
pub fn hosted_service(args: TokenStream, item: TokenStream) -> TokenStream {
    generate(Attr::HostedService, args, item)
}

/// Turns an `async fn` into a periodic service (`every`, `fixed_delay` or `cron`). See the `host`
/// crate for every option.
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
