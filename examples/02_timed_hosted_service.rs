//! The seed's timer service (`MyBackgroundService`): logs when it starts and stops, and does its
//! work once a minute, the first time at start (`TimeSpan.Zero`).
//!
//! In .NET this takes a `Timer` created in `StartAsync` and disposed in `StopAsync`. Here the
//! start and stop hooks log, and the body is the timer loop; the host cancels it at shutdown.
//!
//! The period is one minute as in the seed; set `DEMO_PERIOD` to watch it faster:
//! `DEMO_PERIOD=3s cargo run -p examples --example 02_timed_hosted_service`.

use std::time::Duration;

use host::{BoxError, Context, HostedService};

#[host::hosted_service(name = "my-background-service", new = MyBackgroundService::new)]
struct MyBackgroundService {
    period: Duration,
}

impl MyBackgroundService {
    fn new() -> Self {
        let period = std::env::var("DEMO_PERIOD")
            .ok()
            .and_then(|p| humantime::parse_duration(&p).ok())
            .unwrap_or(Duration::from_secs(60));
        MyBackgroundService { period }
    }
}

impl HostedService for MyBackgroundService {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!("My Background Service is starting.");
        Ok(())
    }

    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        let mut timer = tokio::time::interval(self.period);
        loop {
            tokio::select! {
                _ = ctx.cancelled() => return Ok(()),
                _ = timer.tick() => tracing::info!("Background work is being performed."),
            }
        }
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        tracing::info!("My Background Service is stopping.");
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    host::run().await
}
