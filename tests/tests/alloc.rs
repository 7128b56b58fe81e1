//! "No allocation per tick beyond the user's future": a counting global allocator shows that, in
//! steady state, a thousand ticks of a hundred periodic services allocate nothing at all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use host::{Context, Host, MissedTicks, Schedule, Service, Tick};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocation counts seen by service 0 at the start of runs 100 and 1 100.
static SEEN: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// With `waits`, every run also waits on `ctx.cancelled()` (registered, then given up), as a job
/// racing its work against the stop does.
async fn steady_state_allocations(schedule: impl Fn() -> Schedule, waits: bool) -> u64 {
    SEEN.lock().unwrap().clear();
    SEEN.lock().unwrap().reserve(2);
    let services = (0..100).map(|i| {
        let job = move |ctx: Context, tick: Tick| {
            if i == 0 && (tick.run() == 100 || tick.run() == 1_100) {
                let now = ALLOCATIONS.load(Relaxed);
                SEEN.lock().unwrap().push(now);
            }
            async move {
                if waits {
                    tokio::select! {
                        biased;
                        () = ctx.cancelled() => unreachable!("the host is not stopping"),
                        () = tokio::task::yield_now() => {}
                    }
                }
            }
        };
        Service::periodic(format!("job-{i}"), schedule(), job)
    });
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .services(services)
        .build()
        .unwrap();
    let handle = host.handle();
    let run = tokio::spawn(host.run());
    // Wait (in virtual time) until both samples are taken, polling without allocating.
    while SEEN.lock().unwrap().len() < 2 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    handle.stop();
    run.await.unwrap().unwrap();
    let seen = SEEN.lock().unwrap();
    seen[1] - seen[0]
}

/// Issue 11: a shared value injected into an annotated periodic function.
struct Pool(AtomicU64);

#[host::periodic(every = "10ms")]
async fn injected(pool: host::Dep<Pool>, tick: Tick) {
    pool.0.fetch_add(1, Relaxed);
    if tick.run() == 100 || tick.run() == 1_100 {
        let now = ALLOCATIONS.load(Relaxed);
        SEEN.lock().unwrap().push(now);
    }
}

async fn steady_state_allocations_injected() -> u64 {
    SEEN.lock().unwrap().clear();
    SEEN.lock().unwrap().reserve(2);
    let host = Host::builder()
        .only([concat!(module_path!(), "::injected")])
        .provide(Pool(AtomicU64::new(0)))
        .config(false)
        .catch_signals(false)
        .build()
        .unwrap();
    let handle = host.handle();
    let run = tokio::spawn(host.run());
    while SEEN.lock().unwrap().len() < 2 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    handle.stop();
    run.await.unwrap().unwrap();
    let seen = SEEN.lock().unwrap();
    seen[1] - seen[0]
}

// One test: the counter is process-wide, so the cases must not run on parallel test threads.
#[tokio::test(start_paused = true)]
async fn a_thousand_ticks_allocate_nothing_in_every_schedule_mode() {
    let every = || Schedule::every(Duration::from_millis(10));
    let fixed_rate = steady_state_allocations(every, false).await;
    assert_eq!(fixed_rate, 0, "100 services x 1 000 ticks allocated {fixed_rate} times");
    let with_jitter = || {
        Schedule::every(Duration::from_millis(10))
            .jitter(Duration::from_millis(3))
            .missed_ticks(MissedTicks::Burst)
    };
    assert_eq!(steady_state_allocations(with_jitter, false).await, 0);
    assert_eq!(
        steady_state_allocations(|| Schedule::fixed_delay(Duration::from_millis(10)), false).await,
        0
    );
    let cron = steady_state_allocations(|| Schedule::cron("* * * * * *"), false).await;
    assert_eq!(cron, 0, "cron allocated {cron} times");
    let injected = steady_state_allocations_injected().await;
    assert_eq!(injected, 0, "an injected `Dep<T>` parameter allocated {injected} times");
    // The runs' waits on the service's token take turns with one spare wait.
    let waiting = steady_state_allocations(every, true).await;
    assert_eq!(waiting, 0, "runs awaiting `ctx.cancelled()` allocated {waiting} times");
}
