//! `#[hosted_service]` on types that implement `HostedService`: built with `Default` or `new`.
#![deny(warnings)]

use host::{BoxError, Context, HostedService};

#[host::hosted_service]
#[derive(Default)]
struct Metrics;

impl HostedService for Metrics {}

#[derive(Default)]
#[host::hosted_service(name = "queue", order = 1, on_failure = "restart")]
enum Queue {
    #[default]
    Idle,
    #[allow(dead_code)]
    Busy,
}

impl HostedService for Queue {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        *self = Queue::Idle;
        ctx.cancelled().await;
        Ok(())
    }
}

#[host::hosted_service(new = Mailer::connect, on_failure = "ignore")]
pub struct Mailer {
    relay: String,
}

impl Mailer {
    fn connect() -> Self {
        Mailer {
            relay: "smtp.invalid".to_owned(),
        }
    }
}

impl HostedService for Mailer {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        let _ = self.relay.len();
        Ok(())
    }
}

mod constructors {
    pub fn greeter() -> super::Greeter {
        super::Greeter
    }
}

#[host::hosted_service(new = constructors::greeter)]
struct Greeter;

impl HostedService for Greeter {}

fn main() {}
