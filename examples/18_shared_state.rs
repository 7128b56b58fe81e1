//! Shared state: a pool-like value handed to services by the host instead of a global.
//!
//! `Host::builder().provide(value)` stores one value per type; any service asks for it with a
//! `host::Dep<T>` parameter (it derefs to `T` and clones an `Arc`): here a periodic job, a
//! long-running service and a type's `async`, fallible constructor all share one `Pool`, and two
//! values of one type are told apart by newtypes (`Primary`, `Replica`). A value nobody provided
//! fails `build()` before anything starts, naming the service, the parameter and the type: comment
//! out `.provide(settings)` to see it.
//!
//! `cargo run -p examples --example 18_shared_state`, then Ctrl+C.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use host::{BoxError, Context, Dep, Host, HostedService, Tick};

/// Stands for a database pool: cheap to share, counts its checkouts.
#[derive(Debug)]
struct Pool {
    url: String,
    checkouts: AtomicU64,
}

impl Pool {
    fn new(url: &str) -> Self {
        Pool {
            url: url.to_owned(),
            checkouts: AtomicU64::new(0),
        }
    }

    async fn query(&self, sql: &str) -> u64 {
        let n = self.checkouts.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::info!(pool = %self.url, sql, checkout = n, "query");
        n
    }
}

/// Two pools of one type, told apart by newtypes.
struct Primary(Pool);
struct Replica(Pool);

/// Plain settings, provided like any other value.
struct Settings {
    report_every: Duration,
}

/// A periodic job that reads from the replica.
#[host::periodic(every = "3s", name = "refresh-cache")]
async fn refresh_cache(replica: Dep<Replica>, tick: Tick) {
    replica
        .0
        .query(&format!("SELECT * FROM prices -- run {}", tick.run()))
        .await;
}

/// A long-running service that writes to the primary.
#[host::hosted_service(name = "outbox")]
async fn outbox(ctx: Context, primary: Dep<Primary>) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = ctx.cancelled() => break,
            _ = every.tick() => {
                primary.0.query("DELETE FROM outbox WHERE sent").await;
            }
        }
    }
}

/// A type built by an `async`, fallible constructor from two provided values.
#[host::hosted_service(name = "reporter", new = Reporter::connect)]
struct Reporter {
    replica: Dep<Replica>,
    every: Duration,
}

impl Reporter {
    async fn connect(replica: Dep<Replica>, settings: Dep<Settings>) -> Result<Self, BoxError> {
        // e.g. a connection check; an error here is the service's start failure
        replica.0.query("SELECT 1").await;
        Ok(Reporter {
            replica,
            every: settings.report_every,
        })
    }
}

impl HostedService for Reporter {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        while !ctx.is_cancelled() {
            tokio::select! {
                _ = ctx.cancelled() => {}
                _ = tokio::time::sleep(self.every) => {
                    let n = self.replica.0.checkouts.load(Ordering::Relaxed);
                    tracing::info!(replica_checkouts = n, "report");
                }
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().init();
    let settings = Settings {
        report_every: Duration::from_secs(4),
    };
    Host::builder()
        .provide(Primary(Pool::new("postgres://primary")))
        .provide(Replica(Pool::new("postgres://replica")))
        .provide(settings)
        .build()?
        .run()
        .await?;
    Ok(())
}
