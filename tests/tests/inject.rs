//! Issue 11: shared values given to `Builder::provide` reach every kind of service as `Dep<T>`,
//! and a value nobody provided fails `build()` before anything starts. Under tokio's paused clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use host::{BoxError, Context, Dep, Error, Host, HostedService, Schedule, Service, Tick};

/// A pool-like shared value: every service that uses it records its name in it.
#[derive(Default)]
struct Pool {
    used_by: Mutex<Vec<String>>,
}

impl Pool {
    fn used(&self, by: &str) {
        self.used_by.lock().unwrap().push(by.to_owned());
    }

    fn users(&self) -> Vec<String> {
        self.used_by.lock().unwrap().clone()
    }
}

/// A second value, to check that several types are told apart.
struct Settings {
    greeting: &'static str,
}

fn name(ident: &str) -> String {
    format!("{}::{ident}", module_path!())
}

/// Builds a host with the `only` services and `provide`d values, runs it for `after`.
async fn run_for(builder: host::Builder, after: Duration) -> Result<host::Report, Error> {
    let host = builder.catch_signals(false).build()?;
    let handle = host.handle();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        handle.stop();
    });
    host.run().await
}

// ---- periodic fn ----

#[host::periodic(every = "10s")]
async fn periodic_uses_pool(pool: Dep<Pool>, tick: Tick, settings: Dep<Settings>) {
    pool.used(&format!("periodic {} {}", tick.run(), settings.greeting));
}

#[tokio::test(start_paused = true)]
async fn a_periodic_fn_receives_provided_values_on_every_run() {
    let pool = std::sync::Arc::new(Pool::default());
    let builder = Host::builder()
        .only([name("periodic_uses_pool")])
        .provide_arc(pool.clone())
        .provide(Settings { greeting: "hi" });
    run_for(builder, Duration::from_secs(25)).await.unwrap();
    assert_eq!(pool.users(), ["periodic 1 hi", "periodic 2 hi", "periodic 3 hi"]);
}

// ---- hosted fn ----

#[host::hosted_service]
async fn hosted_uses_pool(ctx: Context, pool: Dep<Pool>, me: &Context) {
    pool.used(&format!("hosted {}", me.name().rsplit("::").next().unwrap_or_default()));
    ctx.cancelled().await;
}

#[tokio::test(start_paused = true)]
async fn a_hosted_fn_receives_provided_values() {
    let pool = std::sync::Arc::new(Pool::default());
    let builder = Host::builder()
        .only([name("hosted_uses_pool")])
        .provide_arc(pool.clone());
    run_for(builder, Duration::from_secs(1)).await.unwrap();
    assert_eq!(pool.users(), ["hosted hosted_uses_pool"]);
}

// ---- a type's constructor: sync, fallible, async ----

struct Reporter {
    pool: Dep<Pool>,
    how: &'static str,
}

impl HostedService for Reporter {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        self.pool.used(&format!("start {}", self.how));
        Ok(())
    }
}

static SYNC_BUILT: AtomicU32 = AtomicU32::new(0);

#[host::hosted_service(new = reporter_sync)]
struct SyncReporter(Reporter);

fn reporter_sync(pool: Dep<Pool>, settings: Dep<Settings>) -> SyncReporter {
    SYNC_BUILT.fetch_add(1, Ordering::SeqCst);
    pool.used(&format!("built sync {}", settings.greeting));
    SyncReporter(Reporter { pool, how: "sync" })
}

impl HostedService for SyncReporter {
    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.0.start(ctx).await
    }
}

#[host::hosted_service(new = Reporter::fallible)]
struct FallibleReporter;

#[host::hosted_service(new = AsyncReporter::connect)]
struct AsyncReporter(Reporter);

impl Reporter {
    fn fallible(pool: Dep<Pool>) -> Result<FallibleReporter, std::io::Error> {
        pool.used("built fallible");
        Ok(FallibleReporter)
    }
}

impl HostedService for FallibleReporter {}

impl AsyncReporter {
    async fn connect(pool: Dep<Pool>) -> Result<AsyncReporter, BoxError> {
        tokio::time::sleep(Duration::from_secs(2)).await;
        pool.used("built async");
        Ok(AsyncReporter(Reporter { pool, how: "async" }))
    }
}

impl HostedService for AsyncReporter {
    async fn start(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.0.start(ctx).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_types_constructor_may_take_provided_values_and_be_fallible_or_async() {
    let pool = std::sync::Arc::new(Pool::default());
    let builder = Host::builder()
        .only([name("FallibleReporter"), name("AsyncReporter")])
        .provide_arc(pool.clone())
        .provide(Settings { greeting: "hi" });
    let host = builder.catch_signals(false).build().unwrap();
    // A fallible constructor runs at build time; an async one on the service's task.
    assert_eq!(pool.users(), ["built fallible"]);
    let handle = host.handle();
    let start = tokio::time::Instant::now();
    let run = tokio::spawn(host.run());
    handle.wait_for(host::Phase::Started).await;
    assert_eq!(start.elapsed(), Duration::from_secs(2), "the async constructor's sleep");
    handle.stop();
    run.await.unwrap().unwrap();
    assert_eq!(pool.users(), ["built fallible", "built async", "start async"]);
}

#[tokio::test(start_paused = true)]
async fn a_plain_constructor_with_provided_values_runs_at_build_time() {
    let pool = std::sync::Arc::new(Pool::default());
    let builder = Host::builder()
        .only([name("SyncReporter")])
        .provide_arc(pool.clone())
        .provide(Settings { greeting: "hey" });
    run_for(builder, Duration::from_secs(1)).await.unwrap();
    assert_eq!(pool.users(), ["built sync hey", "start sync"]);
}

// ---- a failing constructor ----

#[host::hosted_service(new = Broken::new)]
struct Broken;

impl Broken {
    fn new(_pool: Dep<Pool>) -> Result<Broken, std::io::Error> {
        Err(std::io::Error::other("database unreachable"))
    }
}

impl HostedService for Broken {}

#[host::hosted_service(new = BrokenLater::new)]
struct BrokenLater;

impl BrokenLater {
    async fn new() -> Result<BrokenLater, std::io::Error> {
        Err(std::io::Error::other("database unreachable later"))
    }
}

impl HostedService for BrokenLater {}

#[test]
fn a_failing_constructor_fails_build_with_the_service_name() {
    let error = Host::builder()
        .only([name("Broken")])
        .provide(Pool::default())
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "service `{}` could not be constructed: database unreachable",
            name("Broken")
        )
    );
    assert_eq!(error.exit_code(), std::process::ExitCode::from(1));
}

#[tokio::test(start_paused = true)]
async fn a_failing_async_constructor_is_the_services_start_failure() {
    let error = run_for(Host::builder().only([name("BrokenLater")]), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "service `{}` failed to start: database unreachable later",
            name("BrokenLater")
        )
    );
}

// ---- a restart takes a fresh value from an injected async constructor ----

static FLAKY_BUILT: AtomicU32 = AtomicU32::new(0);

#[host::hosted_service(new = Flaky::new, on_failure = restart(initial = "1s"))]
struct Flaky {
    generation: u32,
}

impl Flaky {
    async fn new(pool: Dep<Pool>) -> Flaky {
        let generation = FLAKY_BUILT.fetch_add(1, Ordering::SeqCst) + 1;
        pool.used(&format!("flaky {generation}"));
        Flaky { generation }
    }
}

impl HostedService for Flaky {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        if self.generation == 1 {
            return Err("first generation fails".into());
        }
        ctx.cancelled().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_constructs_a_fresh_value_with_the_same_provided_values() {
    let pool = std::sync::Arc::new(Pool::default());
    let builder = Host::builder().only([name("Flaky")]).provide_arc(pool.clone());
    run_for(builder, Duration::from_secs(5)).await.unwrap();
    assert_eq!(pool.users(), ["flaky 1", "flaky 2"]);
}

// ---- services built by hand ----

struct Worker {
    pool: Dep<Pool>,
}

impl HostedService for Worker {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        self.pool.used("worker");
        ctx.cancelled().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn services_built_by_hand_ask_for_provided_values() {
    let pool = std::sync::Arc::new(Pool::default());
    let builder = Host::builder()
        .discover(false)
        .provide_arc(pool.clone())
        .service(Service::hosted_from("worker", |pool: Dep<Pool>| Worker { pool }))
        .service(Service::periodic_from(
            "job",
            Schedule::every(Duration::from_secs(10)),
            |pool: Dep<Pool>| {
                move |_ctx: Context, tick: Tick| {
                    let pool = pool.clone();
                    async move { pool.used(&format!("job {}", tick.run())) }
                }
            },
        ));
    run_for(builder, Duration::from_secs(15)).await.unwrap();
    let mut users = pool.users();
    users.sort();
    assert_eq!(users, ["job 1", "job 2", "worker"]);
}

// ---- missing values ----

static STARTED: AtomicU32 = AtomicU32::new(0);

#[host::hosted_service(order = -1)]
async fn starts_first(ctx: Context) {
    STARTED.fetch_add(1, Ordering::SeqCst);
    ctx.cancelled().await;
}

#[test]
fn a_missing_value_fails_build_naming_service_parameter_type_and_the_provided_types() {
    let error = Host::builder()
        .only([name("starts_first"), name("periodic_uses_pool")])
        .provide(Settings { greeting: "hi" })
        .provide(42_u64)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "service `{}`: parameter `pool` needs a `inject::Pool`, which was never provided; provided types: \
             `inject::Settings`, `u64`; add `.provide(value)` to the host's builder",
            name("periodic_uses_pool")
        )
    );
    assert_eq!(error.exit_code(), std::process::ExitCode::from(2));
    assert_eq!(STARTED.load(Ordering::SeqCst), 0, "nothing started");
}

static UNBUILT_BUILT: AtomicU32 = AtomicU32::new(0);

#[host::hosted_service(new = Unbuilt::new)]
struct Unbuilt;

impl Unbuilt {
    fn new(_settings: Dep<Settings>, _pool: Dep<Pool>) -> Unbuilt {
        UNBUILT_BUILT.fetch_add(1, Ordering::SeqCst);
        Unbuilt
    }
}

impl HostedService for Unbuilt {}

#[test]
fn a_constructors_missing_value_names_the_parameter_by_position_and_the_constructor() {
    let error = Host::builder()
        .only([name("Unbuilt")])
        .provide(Settings { greeting: "hi" })
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "service `{}`: parameter #2 of `inject::Unbuilt::new` needs a `inject::Pool`, which was never \
             provided; provided types: `inject::Settings`; add `.provide(value)` to the host's builder",
            name("Unbuilt")
        )
    );
    assert_eq!(UNBUILT_BUILT.load(Ordering::SeqCst), 0, "the constructor never ran");
}

#[test]
fn a_by_hand_services_missing_value_fails_build() {
    let error = Host::builder()
        .discover(false)
        .service(Service::hosted_from("worker", |pool: Dep<Pool>| Worker { pool }))
        .build()
        .unwrap_err();
    let Error::MissingDependency { missing, provided } = &error else {
        panic!("{error}");
    };
    assert_eq!(missing.len(), 1, "{error}");
    assert_eq!(missing[0].service, "worker");
    assert_eq!(missing[0].type_name, std::any::type_name::<Pool>());
    assert!(provided.is_empty());
}

/// Every service is checked before any constructor runs: the error lists each service that misses
/// a value (its first such parameter), in start order, and no constructor ran, not even those of
/// services whose values are all there.
#[test]
fn every_service_missing_a_value_is_listed_and_no_constructor_runs() {
    let error = Host::builder()
        .discover(false)
        .provide(Settings { greeting: "hi" })
        .service(Service::hosted_from(
            "a-complete",
            |_settings: Dep<Settings>| -> Worker {
                panic!("must not be constructed while another service misses a value")
            },
        ))
        .service(Service::hosted_from("b-worker", |pool: Dep<Pool>| Worker { pool }))
        .service(Service::periodic_from(
            "c-job",
            Schedule::every(Duration::from_secs(1)),
            |_settings: Dep<Settings>, _count: Dep<u64>| |_: Context, _: Tick| async {},
        ))
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "service `b-worker`: parameter #1 of `inject::every_service_missing_a_value_is_listed_and_no_constructor_runs::{{closure}}` \
         needs a `inject::Pool`, which was never provided; service `c-job`: parameter #2 of \
         `inject::every_service_missing_a_value_is_listed_and_no_constructor_runs::{{closure}}` needs a `u64`, which \
         was never provided; provided types: `inject::Settings`; add `.provide(value)` to the host's builder"
    );
    assert_eq!(error.exit_code(), std::process::ExitCode::from(2));
}
