//! Two independent hosted services (the seed's `MyFirstBackgroundService` and
//! `MySecondBackgroundService`): each has its own start and stop hooks; `order` fixes which starts
//! first, and they stop in reverse order.
//!
//! `cargo run -p examples --example 05_two_services`, then Ctrl+C.

use host::{BoxError, Context, HostedService};

#[host::hosted_service(order = 1)]
#[derive(Default)]
struct MyFirstBackgroundService;

impl HostedService for MyFirstBackgroundService {
    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        tracing::info!(service = ctx.name(), "first background task started");
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!("first background task cleaned up");
        Ok(())
    }
}

#[host::hosted_service(order = 2)]
#[derive(Default)]
struct MySecondBackgroundService;

impl HostedService for MySecondBackgroundService {
    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        tracing::info!(service = ctx.name(), "second background task started");
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!("second background task cleaned up");
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    host::run().await
}
