//! A parameter type of the user's own, injected through `FromContext` (in both attributes).
#![deny(warnings)]

use host::{Context, FromContext, Tick};

struct ServiceName(String);

impl<'a> FromContext<'a> for ServiceName {
    fn from_context(ctx: &'a Context) -> Self {
        ServiceName(ctx.name().to_owned())
    }
}

#[host::hosted_service]
async fn named(name: ServiceName) {
    let _ = name.0;
}

#[host::periodic(every = "1s")]
async fn named_tick(name: ServiceName, tick: Tick) {
    let _ = (name.0, tick);
}

fn main() {}
