//! The runtime is a dependency named `runtime` here, and no crate named `host` exists: the
//! generated code compiles only if it reaches the runtime through `crate = "runtime"`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static RUNS: AtomicU32 = AtomicU32::new(0);
static BODIES: AtomicU32 = AtomicU32::new(0);
static ITEMS: AtomicU32 = AtomicU32::new(0);

#[runtime::periodic(every = "1s", crate = "runtime", name = "renamed-periodic")]
async fn tick(tick: runtime::Tick) {
    assert_eq!(u64::from(RUNS.fetch_add(1, Ordering::SeqCst)) + 1, tick.run());
}

#[runtime::hosted_service(crate = "runtime", name = "renamed-hosted")]
async fn body(ctx: &runtime::Context) -> Result<(), std::io::Error> {
    BODIES.fetch_add(1, Ordering::SeqCst);
    ctx.cancelled().await;
    Ok(())
}

#[runtime::queue_worker(crate = "runtime", name = "renamed-queue", attempts = 2, backoff = "1s")]
async fn item(n: u32, _ctx: runtime::Context) {
    ITEMS.fetch_add(n, Ordering::SeqCst);
}

#[tokio::test(start_paused = true)]
async fn services_declared_through_a_renamed_crate_run() {
    let host = runtime::Host::builder().catch_signals(false).build().unwrap();
    assert_eq!(
        host.service_names().collect::<Vec<_>>(),
        ["renamed-hosted", "renamed-periodic", "renamed-queue"]
    );
    let handle = host.handle();
    handle.queue::<u32>().unwrap().enqueue(5).await.unwrap();
    tokio::spawn(async move {
        handle.wait_for(runtime::Phase::Started).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        handle.stop();
    });
    host.run().await.unwrap();
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    assert_eq!(BODIES.load(Ordering::SeqCst), 1);
    assert_eq!(ITEMS.load(Ordering::SeqCst), 5);
}
