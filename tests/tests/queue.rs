//! The work queue (`host::queue`) under tokio's paused clock: backpressure, `Full`/`Closed` handing
//! the item back, retries with exact back-off, dead letters, panics isolated per item, the drain at
//! shutdown, leftovers handed back, lookup from the host, and a randomized property test over 1000
//! shutdowns: every accepted item is processed, dead-lettered or handed back, exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use host::queue::{DeadLetter, LookupError, Queue, QueueError, QueueHandle, Retry};
use host::{Context, Failure, Host, HostHandle, Phase, Report, Service};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

const MS: Duration = Duration::from_millis(1);

/// Polls `fut` once: whether it completed, without waiting.
fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut TaskContext::from_waker(Waker::noop()))
}

/// Spawns a host with only `service`, and waits until it has started.
async fn start(service: Service, shutdown_timeout: Duration) -> (HostHandle, JoinHandle<Result<Report, host::Error>>) {
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .shutdown_timeout(shutdown_timeout)
        .service(service)
        .build()
        .expect("valid host");
    let handle = host.handle();
    let task = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    (handle, task)
}

/// Waits until the queue refuses new items (the host's shutdown closed it).
async fn until_closed<T: Send + 'static>(queue: &QueueHandle<T>) {
    while !queue.is_closed() {
        tokio::task::yield_now().await;
    }
}

type Log<T> = Arc<Mutex<Vec<T>>>;

fn log<T>() -> Log<T> {
    Arc::default()
}

fn taken<T: Clone>(log: &Log<T>) -> Vec<T> {
    log.lock().unwrap().clone()
}

/// A handler that reports each item it starts on `started`, then waits for a permit of `gate`.
fn gated(
    started: mpsc::UnboundedSender<u32>,
    gate: Arc<Semaphore>,
) -> impl Fn(u32, Context) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static {
    move |item, _ctx| {
        let (started, gate) = (started.clone(), gate.clone());
        Box::pin(async move {
            let _ = started.send(item);
            gate.acquire().await.expect("open").forget();
        })
    }
}

#[tokio::test(start_paused = true)]
async fn enqueue_waits_for_room_and_try_enqueue_hands_the_item_back_when_full() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let (service, queue) = Queue::builder("q", gated(started_tx, gate.clone())).capacity(2).build();
    let (handle, host) = start(service, Duration::from_secs(30)).await;

    queue.enqueue(1).await.unwrap();
    assert_eq!(started.recv().await, Some(1)); // the worker holds item 1: the queue is empty
    queue.enqueue(2).await.unwrap();
    queue.try_enqueue(3).unwrap();
    assert_eq!(queue.stats().depth, 2);
    assert_eq!(queue.stats().in_flight, 1);

    match queue.try_enqueue(4) {
        Err(QueueError::Full { item, queue }) => assert_eq!((item, &*queue), (4, "q")),
        other => panic!("expected Full, got {other:?}"),
    }
    let mut waiting = std::pin::pin!(queue.enqueue(4));
    assert!(
        poll_once(waiting.as_mut()).is_pending(),
        "a full queue makes enqueue wait"
    );
    assert!(poll_once(waiting.as_mut()).is_pending());
    gate.add_permits(1); // item 1 done: the worker takes 2 and 3 (a batch), which frees both places
    assert_eq!(started.recv().await, Some(2));
    waiting.await.unwrap();
    let s = queue.stats();
    assert_eq!((s.depth, s.in_flight, s.processed), (1, 2, 1)); // 4 waits; 2 runs, 3 is taken

    gate.add_permits(3);
    handle.stop();
    let report = host.await.unwrap().unwrap();
    assert!(report.is_clean());
    let stats = queue.stats();
    assert_eq!(
        (stats.processed, stats.depth, stats.in_flight, stats.handed_back),
        (4, 0, 0, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn after_shutdown_began_enqueue_and_try_enqueue_return_closed_with_the_item() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let (service, queue) = Queue::builder("q", gated(started_tx, gate.clone())).build();
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    queue.enqueue(1).await.unwrap();
    assert_eq!(started.recv().await, Some(1));

    // The only worker is busy: the queue closes all the same.
    handle.stop();
    until_closed(&queue).await;
    let e = queue.try_enqueue(7).unwrap_err();
    assert!(e.is_closed());
    assert_eq!(e.into_item(), 7);
    match queue.enqueue(8).await {
        Err(QueueError::Closed { item, .. }) => assert_eq!(item, 8),
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(handle.phase() < Phase::Stopped);

    gate.add_permits(1);
    host.await.unwrap().unwrap();
    assert_eq!(queue.stats().processed, 1);
    assert_eq!(
        queue.try_enqueue(9).unwrap_err().to_string(),
        "queue `q` is closed: the host is shutting down; the item was not enqueued"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_item_is_retried_after_exact_back_offs_then_dead_lettered() {
    let attempts: Log<Duration> = log();
    let letters: Log<(u32, u32, String, String)> = log();
    let t0 = Instant::now();
    let (service, queue) = Queue::builder("mailer", {
        let attempts = attempts.clone();
        move |_item: u32, _ctx: Context| {
            attempts.lock().unwrap().push(t0.elapsed());
            async { Err::<(), _>(std::io::Error::other("smtp down")) }
        }
    })
    .retry(
        Retry::new()
            .attempts(4)
            .initial(100 * MS)
            .factor(2.0)
            .max(Duration::from_secs(1)),
    )
    .dead_letter({
        let letters = letters.clone();
        move |d: DeadLetter<u32>| {
            letters
                .lock()
                .unwrap()
                .push((d.item, d.attempts, d.queue.to_string(), d.error.to_string()));
            async {}
        }
    })
    .build();
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    queue.enqueue(42).await.unwrap();
    // The first attempt at 0, retries after 100, 200 and 400 ms.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(taken(&attempts), [0, 100, 300, 700].map(|ms| ms * MS));
    assert_eq!(taken(&letters), [(42, 4, "mailer".to_owned(), "smtp down".to_owned())]);
    let s = queue.stats();
    assert_eq!((s.failed, s.retried, s.dead_lettered, s.processed), (4, 3, 1, 0));
    handle.stop();
    host.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_one_item_is_isolated_and_the_worker_goes_on() {
    let done: Log<u32> = log();
    let letters: Log<(u32, String)> = log();
    let (service, queue) = Queue::builder("q", {
        let done = done.clone();
        move |item: u32, _ctx: Context| {
            let done = done.clone();
            async move {
                assert!(item != 2, "item two is poison");
                done.lock().unwrap().push(item);
            }
        }
    })
    .retry(Retry::none())
    .dead_letter({
        let letters = letters.clone();
        move |d: DeadLetter<u32>| {
            assert!(matches!(d.error, Failure::Panic(_)));
            letters.lock().unwrap().push((d.item, d.error.to_string()));
            async {}
        }
    })
    .build();
    for i in 1..=3 {
        queue.enqueue(i).await.unwrap(); // before the host runs: they wait
    }
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    handle.stop();
    let report = host.await.unwrap().unwrap();
    assert!(report.is_clean(), "a panicking item does not fail the queue's service");
    assert_eq!(taken(&done), [1, 3]);
    assert_eq!(taken(&letters), [(2, "panicked: item two is poison".to_owned())]);
    let s = queue.stats();
    assert_eq!((s.processed, s.failed, s.dead_lettered), (2, 1, 1));
}

/// A handler that takes `cost` of (virtual) time per item and records when each item finished.
fn slow(
    cost: Duration,
    done: Log<(u32, Duration)>,
) -> impl Fn(u32, Context) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync {
    let t0 = Instant::now();
    move |item, _ctx| {
        let done = done.clone();
        Box::pin(async move {
            tokio::time::sleep(cost).await;
            done.lock().unwrap().push((item, t0.elapsed()));
        })
    }
}

#[tokio::test(start_paused = true)]
async fn at_shutdown_the_queue_finishes_in_flight_items_and_drains_the_queued_ones() {
    let done = log();
    let left: Log<u32> = log();
    let (service, queue) = Queue::builder("q", slow(Duration::from_secs(1), done.clone()))
        .capacity(100)
        .concurrency(2)
        .on_shutdown_leftovers({
            let left = left.clone();
            move |items: Vec<u32>| {
                left.lock().unwrap().extend(items);
                async {}
            }
        })
        .build();
    let t0 = Instant::now();
    for i in 0..10 {
        queue.enqueue(i).await.unwrap();
    }
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    handle.stop(); // at once: all ten are still queued or in flight
    let report = host.await.unwrap().unwrap();
    assert!(report.is_clean());
    // Two workers, 1 s each: pairs finish at 1, 2, 3, 4 and 5 s, in order.
    let expect: Vec<(u32, Duration)> = (0..10)
        .map(|i| (i, Duration::from_secs(u64::from(i / 2 + 1))))
        .collect();
    assert_eq!(taken(&done), expect);
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(5),
        "the host stops once the queue is drained"
    );
    assert!(taken(&left).is_empty());
    let s = queue.stats();
    assert_eq!((s.processed, s.handed_back, s.depth, s.in_flight), (10, 0, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn what_the_drain_deadline_leaves_is_handed_back_in_flight_items_included() {
    let done = log();
    let left: Log<(Vec<u32>, Duration)> = log();
    let t0 = Instant::now();
    let (service, queue) = Queue::builder("q", slow(Duration::from_secs(3), done.clone()))
        .capacity(10)
        .on_shutdown_leftovers({
            let left = left.clone();
            move |items: Vec<u32>| {
                left.lock().unwrap().push((items, t0.elapsed()));
                async {}
            }
        })
        .build();
    for i in 0..5 {
        queue.enqueue(i).await.unwrap();
    }
    // Shutdown timeout 12 s: bodies have 9 s, and the default drain timeout leaves a fifth of that
    // to the hook: 7.2 s. Items 0 and 1 finish at 3 and 6 s; item 2 is in flight at 7.2 s; 3 and 4
    // are queued.
    let (handle, host) = start(service, Duration::from_secs(12)).await;
    handle.stop();
    let report = host.await.unwrap().unwrap();
    assert!(
        report.is_clean(),
        "the drain ends before the host's timeout: {report:?}"
    );
    assert_eq!(taken(&done), [(0, Duration::from_secs(3)), (1, Duration::from_secs(6))]);
    assert_eq!(taken(&left), [(vec![2, 3, 4], Duration::from_millis(7_200))]);
    let s = queue.stats();
    assert_eq!((s.processed, s.handed_back, s.in_flight, s.depth), (2, 3, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn an_explicit_drain_timeout_is_honoured_and_a_back_off_is_cut_short() {
    let left: Log<(Vec<u32>, Duration)> = log();
    let t0 = Instant::now();
    let (service, queue) = Queue::builder("q", |_: u32, _ctx: Context| async { Err::<(), _>("no") })
        .retry(Retry::new().attempts(5).initial(Duration::from_secs(10)))
        .drain_timeout(Duration::from_secs(2))
        .on_shutdown_leftovers({
            let left = left.clone();
            move |items: Vec<u32>| {
                left.lock().unwrap().push((items, t0.elapsed()));
                async {}
            }
        })
        .build();
    queue.enqueue(1).await.unwrap();
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    handle.stop(); // the item failed once and waits 10 s for its retry
    host.await.unwrap().unwrap();
    assert_eq!(taken(&left), [(vec![1], Duration::from_secs(2))]);
    let s = queue.stats();
    assert_eq!((s.failed, s.retried, s.handed_back, s.dead_lettered), (1, 0, 1, 0));
}

#[derive(Clone, Debug, PartialEq)]
struct Email(&'static str);

#[tokio::test(start_paused = true)]
async fn producers_find_a_queue_through_the_host_by_item_type_or_name() {
    let sent: Log<Email> = log();
    let (mailer, _) = Queue::builder("mailer", {
        let sent = sent.clone();
        move |e: Email, _ctx: Context| {
            sent.lock().unwrap().push(e);
            async {}
        }
    })
    .build();
    let (a, _) = Queue::builder("a", |_: u64, _ctx: Context| async {}).build();
    let (b, _) = Queue::builder("b", |_: u64, _ctx: Context| async {}).build();
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .services([mailer, a, b])
        .build()
        .unwrap();
    let handle = host.handle();

    // Before the host runs: the item waits for it.
    handle.queue::<Email>().unwrap().enqueue(Email("ada")).await.unwrap();
    assert!(matches!(handle.queue::<u64>(), Err(LookupError::Ambiguous { ref names, .. }) if names == &["a", "b"]));
    assert_eq!(handle.queue_named::<u64>("b").unwrap().name(), "b");
    assert_eq!(
        handle.queue::<i8>().unwrap_err().to_string(),
        "the host has no queue of `i8`; queues: `a`: u64, `b`: u64, `mailer`: queue::Email"
    );
    assert!(matches!(
        handle.queue_named::<i8>("a"),
        Err(LookupError::WrongType { actual: "u64", .. })
    ));
    assert!(matches!(
        handle.queue_named::<u64>("c"),
        Err(LookupError::NoSuchName { .. })
    ));

    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    assert_eq!(
        handle
            .queue_stats("mailer")
            .map(|s| s.depth + s.in_flight + s.processed),
        Some(1)
    );
    assert_eq!(handle.queue_stats("nope"), None);
    handle.stop();
    run.await.unwrap().unwrap();
    assert_eq!(taken(&sent), [Email("ada")]);
}

/// What happened to the items of one randomized run.
#[derive(Default)]
struct Ledger {
    accepted: Vec<u32>,
    processed: Vec<u32>,
    dead: Vec<u32>,
    handed_back: Vec<u32>,
    refused: u64,
}

/// One run: random capacity, concurrency, retries, arrivals, processing times, outcomes, stop time
/// and shutdown timeout. Returns why the invariant does not hold, if it does not.
async fn random_shutdown(seed: u64, totals: &mut [u64; 4]) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let shutdown_timeout = Duration::from_millis(rng.u64(5..400));
    let stop_at = Duration::from_millis(rng.u64(0..300));
    let max_cost = rng.u64(1..80);
    let (service, queue) = Queue::builder("q", {
        let ledger = ledger.clone();
        move |id: u32, _ctx: Context| {
            // Each attempt's cost and outcome, from the seed, the item and a per-item counter.
            let mut r = fastrand::Rng::with_seed(seed ^ (u64::from(id) << 32) ^ fastrand::u64(..));
            let cost = Duration::from_millis(r.u64(0..max_cost));
            let outcome = r.u8(0..20);
            let ledger = ledger.clone();
            async move {
                tokio::time::sleep(cost).await;
                match outcome {
                    0..=1 => panic!("item {id} panicked"),
                    2..=4 => Err(format!("item {id} failed")),
                    _ => {
                        ledger.lock().unwrap().processed.push(id);
                        Ok(())
                    }
                }
            }
        }
    })
    .capacity(rng.usize(1..=8))
    .concurrency(rng.usize(1..=4))
    .retry(
        Retry::new()
            .attempts(rng.u32(1..=3))
            .initial(Duration::from_millis(rng.u64(1..50))),
    )
    .dead_letter({
        let ledger = ledger.clone();
        move |d: DeadLetter<u32>| {
            ledger.lock().unwrap().dead.push(d.item);
            async {}
        }
    })
    .on_shutdown_leftovers({
        let ledger = ledger.clone();
        move |items: Vec<u32>| {
            ledger.lock().unwrap().handed_back.extend(items);
            async {}
        }
    })
    .build();

    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .shutdown_timeout(shutdown_timeout)
        .service(service)
        .build()
        .map_err(|e| e.to_string())?;
    let handle = host.handle();
    let mut producers = Vec::new();
    for p in 0..rng.u32(1..=3) {
        let (queue, ledger) = (queue.clone(), ledger.clone());
        let mut r = fastrand::Rng::with_seed(rng.u64(..));
        producers.push(tokio::spawn(async move {
            for n in 0..r.u32(0..25) {
                tokio::time::sleep(Duration::from_millis(r.u64(0..30))).await;
                let id = p * 1000 + n;
                let result = if r.bool() {
                    queue.enqueue(id).await
                } else {
                    queue.try_enqueue(id)
                };
                match result {
                    Ok(()) => ledger.lock().unwrap().accepted.push(id),
                    Err(e) if *e.item() == id => ledger.lock().unwrap().refused += 1,
                    Err(e) => panic!("{e}: another item came back"),
                }
            }
        }));
    }
    let stopper = handle.clone();
    tokio::spawn(async move {
        tokio::time::sleep(stop_at).await;
        stopper.stop();
    });
    let report = host.run().await.map_err(|e| format!("the host failed: {e}"))?;
    for p in producers {
        p.await.map_err(|e| e.to_string())?;
    }
    if !report.is_clean() {
        return Err(format!("unclean shutdown: {report:?}"));
    }
    let l = ledger.lock().unwrap();
    let mut settled: Vec<u32> = l
        .processed
        .iter()
        .chain(&l.dead)
        .chain(&l.handed_back)
        .copied()
        .collect();
    settled.sort_unstable();
    let mut accepted = l.accepted.clone();
    accepted.sort_unstable();
    if settled != accepted {
        return Err(format!(
            "accepted {accepted:?}\nbut processed {:?}, dead-lettered {:?}, handed back {:?}",
            l.processed, l.dead, l.handed_back
        ));
    }
    let s = queue.stats();
    let counted = (s.processed, s.dead_lettered, s.handed_back, s.in_flight, s.depth);
    let expected = (
        l.processed.len() as u64,
        l.dead.len() as u64,
        l.handed_back.len() as u64,
        0,
        0,
    );
    if counted != expected {
        return Err(format!("stats {counted:?}, ledger {expected:?}"));
    }
    for (total, n) in totals.iter_mut().zip([expected.0, expected.1, expected.2, l.refused]) {
        *total += n;
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn no_item_is_lost_or_settled_twice_over_1000_random_shutdowns() {
    let base: u64 = std::env::var("QUEUE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0013);
    fastrand::seed(base);
    // processed, dead-lettered, handed back, refused (Full or Closed)
    let mut totals = [0u64; 4];
    for run in 0..1000 {
        let seed = base.wrapping_add(run);
        if let Err(why) = random_shutdown(seed, &mut totals).await {
            panic!("run {run} (seed {seed}, QUEUE_SEED={base}) broke the invariant: {why}");
        }
    }
    // The runs exercise every way out: otherwise the property above would hold vacuously.
    println!("totals (processed, dead-lettered, handed back, refused): {totals:?}");
    assert!(totals.iter().all(|&n| n > 100), "{totals:?}");
}

/// An item of the annotated queue below.
#[derive(Clone, Debug, PartialEq)]
struct Task(u32);

static ANNOTATED_DONE: Mutex<Vec<u32>> = Mutex::new(Vec::new());
static ANNOTATED_DEAD: Mutex<Vec<(u32, u32)>> = Mutex::new(Vec::new());

/// Task 0 always fails; the others succeed.
#[host::queue_worker(name = "annotated", capacity = 4, concurrency = 2, attempts = 2, backoff = "10ms", dead_letter = park)]
async fn annotated(task: Task, ctx: Context) -> anyhow::Result<()> {
    anyhow::ensure!(task.0 != 0, "task 0 fails in `{}`", ctx.name());
    tokio::time::sleep(Duration::from_millis(100)).await;
    ANNOTATED_DONE.lock().unwrap().push(task.0);
    Ok(())
}

async fn park(letter: DeadLetter<Task>) {
    assert_eq!(letter.error.to_string(), "task 0 fails in `annotated`");
    ANNOTATED_DEAD.lock().unwrap().push((letter.item.0, letter.attempts));
}

#[tokio::test(start_paused = true)]
async fn an_annotated_queue_worker_is_registered_with_its_options() {
    let host = Host::builder()
        .only(["annotated"])
        .catch_signals(false)
        .build()
        .unwrap();
    let handle = host.handle();
    let queue = handle.queue::<Task>().unwrap();
    assert_eq!((queue.name(), queue.capacity()), ("annotated", 4));
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    for i in 0..3 {
        queue.enqueue(Task(i)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    handle.stop();
    run.await.unwrap().unwrap();
    // Two workers: task 0 fails at once, its retry 10 ms later fails again; task 1 runs beside it
    // and task 2 after the retry freed the worker.
    assert_eq!(*ANNOTATED_DONE.lock().unwrap(), [1, 2]);
    assert_eq!(*ANNOTATED_DEAD.lock().unwrap(), [(0, 2)]);
    let s = queue.stats();
    assert_eq!((s.processed, s.failed, s.retried, s.dead_lettered), (2, 2, 1, 1));
}

/// The same invariant with real threads: producers on two runtime workers race the close, the
/// drain and the deadline (no paused clock: only the invariant is asserted, never a time).
#[test]
fn no_item_is_lost_when_producers_race_the_close_on_two_threads() {
    let base: u64 = std::env::var("QUEUE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0113);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut totals = [0usize; 3];
    for run in 0..200u64 {
        let seed = base.wrapping_add(run);
        let mut rng = fastrand::Rng::with_seed(seed);
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let fail_every = rng.u32(3..9);
        let (service, queue) = Queue::builder("q", {
            let ledger = ledger.clone();
            move |id: u32, _ctx: Context| {
                let ledger = ledger.clone();
                async move {
                    if id.is_multiple_of(25) {
                        tokio::time::sleep(Duration::from_millis(1)).await; // slow enough for the deadline
                    } else {
                        tokio::task::yield_now().await;
                    }
                    if id.is_multiple_of(fail_every) {
                        return Err("unlucky");
                    }
                    ledger.lock().unwrap().processed.push(id);
                    Ok(())
                }
            }
        })
        .capacity(rng.usize(1..=16))
        .concurrency(rng.usize(1..=4))
        .retry(Retry::none())
        .drain_timeout(Duration::from_micros(rng.u64(0..2000)))
        .dead_letter({
            let ledger = ledger.clone();
            move |d: DeadLetter<u32>| {
                ledger.lock().unwrap().dead.push(d.item);
                async {}
            }
        })
        .on_shutdown_leftovers({
            let ledger = ledger.clone();
            move |items: Vec<u32>| {
                ledger.lock().unwrap().handed_back.extend(items);
                async {}
            }
        })
        .build();
        let stop_after = rng.usize(0..300);
        rt.block_on(async {
            let host = Host::builder()
                .discover(false)
                .catch_signals(false)
                .service(service)
                .build()
                .unwrap();
            let handle = host.handle();
            let run = tokio::spawn(host.run());
            let producers: Vec<_> = (0..3u32)
                .map(|p| {
                    let (queue, ledger) = (queue.clone(), ledger.clone());
                    tokio::spawn(async move {
                        for n in 0..200u32 {
                            let id = p * 1000 + n;
                            let result = if n % 2 == 0 {
                                queue.enqueue(id).await
                            } else {
                                queue.try_enqueue(id)
                            };
                            match result {
                                Ok(()) => ledger.lock().unwrap().accepted.push(id),
                                Err(e) => assert_eq!(e.into_item(), id),
                            }
                        }
                    })
                })
                .collect();
            // Stop once `stop_after` items were accepted (or every producer is done).
            handle.wait_for(Phase::Started).await;
            while ledger.lock().unwrap().accepted.len() < stop_after && !producers.iter().all(|p| p.is_finished()) {
                tokio::task::yield_now().await;
            }
            handle.stop();
            run.await.unwrap().unwrap();
            for p in producers {
                p.await.unwrap();
            }
        });
        let l = ledger.lock().unwrap();
        let mut settled: Vec<u32> = l
            .processed
            .iter()
            .chain(&l.dead)
            .chain(&l.handed_back)
            .copied()
            .collect();
        settled.sort_unstable();
        let mut accepted = l.accepted.clone();
        accepted.sort_unstable();
        assert_eq!(settled, accepted, "run {run} (seed {seed}, QUEUE_SEED={base})");
        for (total, n) in totals
            .iter_mut()
            .zip([l.processed.len(), l.dead.len(), l.handed_back.len()])
        {
            *total += n;
        }
    }
    // Every way out was taken, or the property would hold vacuously.
    println!("totals (processed, dead-lettered, handed back): {totals:?}");
    assert!(totals.iter().all(|&n| n > 100), "{totals:?}");
}

#[tokio::test(start_paused = true)]
async fn several_workers_take_one_item_each_so_the_capacity_is_exact() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let (service, queue) = Queue::builder("q", gated(started_tx, gate.clone()))
        .capacity(2)
        .concurrency(2)
        .build();
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    for i in 1..=4 {
        queue.enqueue(i).await.unwrap();
    }
    let mut running = [started.recv().await.unwrap(), started.recv().await.unwrap()];
    running.sort_unstable();
    assert_eq!(running, [1, 2]);
    // Two in flight, two waiting: the third waiting one is refused.
    let s = queue.stats();
    assert_eq!((s.in_flight, s.depth), (2, 2));
    assert!(queue.try_enqueue(5).unwrap_err().is_full());
    gate.add_permits(4);
    handle.stop();
    host.await.unwrap().unwrap();
    assert_eq!(queue.stats().processed, 4);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_dead_letter_or_leftovers_hook_is_contained() {
    let (service, queue) = Queue::builder("q", |item: u32, _ctx: Context| async move {
        if item == 0 {
            return Err("fails");
        }
        tokio::time::sleep(Duration::from_secs(60)).await; // still running at the drain deadline
        Ok(())
    })
    .retry(Retry::none())
    .concurrency(2)
    .drain_timeout(Duration::from_secs(1))
    .dead_letter(|_: DeadLetter<u32>| async { panic!("dead-letter hook panicked") })
    .on_shutdown_leftovers(|_: Vec<u32>| async { panic!("leftovers hook panicked") })
    .build();
    queue.enqueue(0).await.unwrap();
    queue.enqueue(1).await.unwrap();
    let (handle, host) = start(service, Duration::from_secs(30)).await;
    handle.stop();
    let report = host.await.unwrap().unwrap();
    assert!(report.is_clean(), "hook panics stay inside the queue: {report:?}");
    let s = queue.stats();
    assert_eq!((s.dead_lettered, s.handed_back, s.processed), (1, 1, 0));
}

#[tokio::test(start_paused = true)]
async fn the_status_snapshot_and_the_shutdown_report_carry_the_queues_counters() {
    let done = log();
    let (service, queue) = Queue::builder("mail", slow(Duration::from_secs(1), done.clone()))
        .capacity(10)
        .on_shutdown_leftovers(|_: Vec<u32>| async {})
        .build();
    for i in 0..4 {
        queue.enqueue(i).await.unwrap();
    }
    let (handle, host) = start(service, Duration::from_secs(4)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = handle.status();
    let q = status[0].queue.expect("a queue's status has its counters");
    // One processed at 1 s; the other three taken by the worker (a lone worker takes a batch) or
    // waiting.
    assert_eq!((q.processed, q.in_flight + q.depth), (1, 3));
    handle.stop();
    let report = host.await.unwrap().unwrap();
    // Bodies have 3 s of the 4 s timeout, the drain a fifth less: 2.4 s after the stop at 1.5 s,
    // 3.9 s. Items 1 and 2 finish at 2 and 3 s; item 3, due at 4 s, is handed back.
    let q = report.services[0]
        .queue
        .as_deref()
        .expect("the report has the queue's counters");
    assert_eq!((q.processed, q.dead_lettered, q.handed_back), (3, 0, 1));
    assert_eq!(taken(&done).len(), 3);
}
