//! A host under faults, for the real-process tests (`tests/faults.rs`): services that block their
//! thread in a hook or body, stop requests from inside, failures, on each runtime flavour.
//!
//! - `FAULT_RUNTIME`: `current` (current-thread), `one` (multi-thread, one worker), `multi`
//!   (multi-thread, four workers).
//! - `FAULT_SCENARIO`: `clean`, `block-body`, `block-start`, `block-stop`, `stop-then-drain`,
//!   `fail-then-drain`.
//! - `FAULT_BLOCK`: how long the blocking code blocks (default 20s); `FAULT_TIMEOUT`: the shutdown
//!   timeout (default 1s); `FAULT_HARD_EXIT=0` turns the hard exit off.
//!
//! `main` is the README's: the host's run, then `main` returns and the runtime is dropped.

use std::process::ExitCode;
use std::time::Duration;

use host::{BoxError, Context, Host, HostedService, Schedule, Service};

fn env_duration(key: &str, default: &str) -> Duration {
    let text = std::env::var(key).unwrap_or_else(|_| default.to_owned());
    humantime::parse_duration(&text).unwrap_or_else(|e| panic!("{key}={text}: {e}"))
}

/// Blocks its thread (a synchronous driver call, say) in one of its hooks.
struct Blocker {
    during: &'static str,
    block: Duration,
}

impl Blocker {
    fn maybe_block(&self, now: &str) {
        if self.during == now {
            tracing::info!(during = now, "blocking the thread now");
            std::thread::sleep(self.block);
            tracing::info!(during = now, "blocking ended");
        }
    }
}

impl HostedService for Blocker {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        self.maybe_block("start");
        Ok(())
    }

    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if self.during == "body" {
            // Blocks only once shutdown has begun, so that start-up completes on every flavour.
            ctx.cancelled().await;
        }
        self.maybe_block("body");
        ctx.cancelled().await;
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        self.maybe_block("stop");
        Ok(())
    }
}

/// Well behaved: stops at once, and its stop hook takes `drain` (async).
struct Bystander {
    drain: Duration,
    fail_after: Option<Duration>,
    stop_after: Option<Duration>,
}

impl HostedService for Bystander {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if let Some(after) = self.stop_after {
            tokio::time::sleep(after).await;
            tracing::info!("requesting a stop");
            ctx.host().stop();
        }
        if let Some(after) = self.fail_after {
            tokio::time::sleep(after).await;
            return Err("lost the connection".into());
        }
        ctx.cancelled().await;
        Ok(())
    }

    async fn stop(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        if !self.drain.is_zero() {
            tracing::info!("draining");
            tokio::time::sleep(self.drain).await;
            tracing::info!("drained");
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_ansi(false).init();
    let flavour = std::env::var("FAULT_RUNTIME").unwrap_or_else(|_| "multi".into());
    let runtime = match flavour.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        "one" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build(),
    };
    let runtime = runtime.expect("a runtime");
    let block = env_duration("FAULT_BLOCK", "20s");
    let scenario = std::env::var("FAULT_SCENARIO").unwrap_or_else(|_| "clean".into());
    let quiet = Bystander {
        drain: Duration::ZERO,
        fail_after: None,
        stop_after: None,
    };
    let mut builder = Host::builder()
        .discover(false)
        .shutdown_timeout(env_duration("FAULT_TIMEOUT", "1s"))
        .service(Service::periodic(
            "heartbeat",
            Schedule::every(Duration::from_millis(100)),
            |_, _| async {},
        ));
    if std::env::var("FAULT_HARD_EXIT").as_deref() == Ok("0") {
        builder = builder.hard_exit(false);
    }
    let blocker = |during| Service::hosted("blocker", Blocker { during, block }).order(1);
    builder = match scenario.as_str() {
        "block-body" => builder
            .service(blocker("body"))
            .service(Service::hosted("bystander", quiet)),
        "block-start" => builder
            .service(blocker("start"))
            .service(Service::hosted("bystander", quiet).order(2)),
        "block-stop" => builder
            .service(blocker("stop"))
            .service(Service::hosted("bystander", quiet)),
        "stop-then-drain" => builder.service(Service::hosted(
            "drainer",
            Bystander {
                drain: Duration::from_secs(3),
                fail_after: None,
                stop_after: Some(Duration::from_millis(200)),
            },
        )),
        "fail-then-drain" => builder
            .service(Service::hosted(
                "drainer",
                Bystander {
                    drain: Duration::from_secs(3),
                    ..quiet
                },
            ))
            .service(Service::hosted(
                "failing",
                Bystander {
                    drain: Duration::ZERO,
                    fail_after: Some(Duration::from_millis(200)),
                    stop_after: None,
                },
            )),
        _ => builder.service(Service::hosted("bystander", quiet)),
    };
    let result = runtime.block_on(async move { builder.build()?.run().await });
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "host failed");
            error.exit_code()
        }
    }
}
