//! `#[hosted_service]` on `async fn`s: every parameter and return type it supports, every common
//! option.
#![deny(warnings)]

use host::Context;

#[host::hosted_service]
async fn unit() {}

#[host::hosted_service]
pub(crate) async fn explicit_unit() -> () {}

#[host::hosted_service(name = "by-reference", order = -10, on_failure = "ignore")]
async fn by_reference(ctx: &Context) -> anyhow::Result<()> {
    ctx.cancelled().await;
    Ok(())
}

#[host::hosted_service(order = 3, on_failure = "restart")]
async fn by_value(ctx: Context) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    ctx.cancelled().await;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("mail relay down")]
struct RelayDown;

#[host::hosted_service(
    on_failure = restart(initial = "1s", max = "30s", factor = 2.0, jitter = 0.1, max_restarts = 5, window = "60s")
)]
async fn both(a: &Context, b: Context) -> Result<(), RelayDown> {
    let _ = (a, b);
    Ok(())
}

#[host::hosted_service(on_failure = "stop-host")]
async fn io_error(_: Context) -> std::io::Result<()> {
    Ok(())
}

#[host::hosted_service(on_failure = restart(max_restarts = 3))]
async fn only_restarts() {}

#[host::hosted_service(on_failure = restart(window = "5m", factor = 3), crate = "::host")]
async fn only_window() {}

#[host::hosted_service(name = "raw")]
async fn r#type() {}

mod nested {
    #[host::hosted_service]
    pub async fn in_a_module(_ctx: &host::Context) {}
}

fn main() {
    // A service declared inside a function body is registered too.
    #[host::hosted_service(name = "local")]
    async fn local(ctx: Context) {
        ctx.cancelled().await;
    }

    // The functions stay ordinary functions.
    let _ = local;
    let _ = unit();
    let _ = nested::in_a_module;
    let _ = r#type();
}
