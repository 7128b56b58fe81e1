//! `crate = "…"`: the runtime under another name. Here `host` is this crate itself, not the
//! runtime, so generated code that named `::host` would not compile. (`tests/renamed` checks the
//! same with a Cargo dependency renamed, and runs the services.)
#![deny(warnings)]

extern crate host as renamed_host;
extern crate self as host;

use renamed_host::{BoxError, Context, HostedService, Tick};

#[renamed_host::periodic(every = "30s", crate = "renamed_host", on_failure = restart(max_restarts = 2))]
async fn refresh(tick: Tick) -> Result<(), BoxError> {
    let _ = tick;
    Ok(())
}

#[renamed_host::hosted_service(crate = "renamed_host", on_failure = "ignore", order = 2)]
async fn mailer(ctx: &Context) {
    ctx.cancelled().await;
}

#[renamed_host::hosted_service(crate = "::renamed_host")]
#[derive(Default)]
struct Metrics;

impl HostedService for Metrics {}

fn main() {}
