//! Issue 11: `new = path` may take `Dep<T>` parameters, return `Result<Self, E>`, and be `async`.
use host::{BoxError, Dep};

struct Pool;
struct Settings;

#[host::hosted_service(new = Plain::new)]
struct Plain;

impl Plain {
    fn new(_pool: Dep<Pool>, _settings: Dep<Settings>) -> Self {
        Plain
    }
}

impl host::HostedService for Plain {}

#[host::hosted_service(new = Fallible::connect)]
struct Fallible;

impl Fallible {
    fn connect() -> Result<Self, std::io::Error> {
        Ok(Fallible)
    }
}

impl host::HostedService for Fallible {}

#[host::hosted_service(new = Async::connect)]
struct Async;

impl Async {
    async fn connect(_pool: Dep<Pool>) -> Self {
        Async
    }
}

impl host::HostedService for Async {}

#[host::hosted_service(new = AsyncFallible::connect)]
struct AsyncFallible;

impl AsyncFallible {
    async fn connect(_pool: Dep<Pool>) -> Result<Self, BoxError> {
        Ok(AsyncFallible)
    }
}

impl host::HostedService for AsyncFallible {}

#[host::periodic(every = "1m", enabled = false)]
async fn job(_pool: Dep<Pool>, _ctx: &host::Context, _tick: host::Tick) {}

#[host::hosted_service]
async fn worker(ctx: host::Context, _pool: Dep<Pool>, _settings: Dep<Settings>) {
    ctx.cancelled().await;
}

fn main() {}
