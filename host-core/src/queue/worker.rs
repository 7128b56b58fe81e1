//! The queue's service: workers that take items, attempt them with retries, and the shutdown that
//! closes, drains, and hands back what is left.
//!
//! # Invariants
//!
//! - An item is owned by exactly one place at a time: the channel, one worker (which keeps the
//!   original while attempts run on clones), the leftovers list, or a hook. It moves between them
//!   by value, so it cannot be counted twice; every path out of a worker settles it (processed,
//!   dead-lettered or pushed to the leftovers list).
//! - Producers are refused as soon as `closing` is set; the channel itself is closed by the holder
//!   of the receiver's lock (the service wakes it with a [`Msg::Wake`] if it is parked on an empty
//!   queue). After the close, `recv()` returns `None` only once no send is in progress and nothing
//!   is buffered (tokio's contract), so the final drain after the workers ended sees every item a
//!   producer was told was accepted, including one that passed the `closing` check just before it
//!   was set.
//! - Workers stop taking items at the drain deadline (`expired`); an attempt still running then is
//!   dropped and its item handed back.
//!
//! # Deadlock safety
//!
//! The receiver's lock is held only while waiting for the next item (by a lone worker: always).
//! That wait ends with an item, with the wake-up sent at the stop, or, once the channel is closed,
//! at once; a worker waiting for the lock thus always gets it. No other lock is held across an
//! `await`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::Poll;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tracing::Instrument;

use super::builder::{DeadLetter, DeadLetterHook, Handler, LeftoversHook};
use super::handle::Shared;
use super::retry::Retry;
use super::stats::Counters;
use crate::context::Context;
use crate::error::{BoxError, Failure, humanize};
use crate::panic;
use crate::service::HostedService;

/// What travels through the channel: items, and the one wake-up the service sends when it
/// begins to stop, so that a worker parked on an empty queue notices (and closes the channel)
/// without polling a cancellation future on every wait.
pub(crate) enum Msg<T> {
    Item(T),
    Wake,
}

/// The receiver and whether it was closed, behind the workers' shared lock.
struct Rx<T> {
    rx: mpsc::Receiver<Msg<T>>,
    closed: bool,
}

impl<T> Rx<T> {
    /// The next message; closes the channel first if the queue is stopping.
    async fn next(&mut self, shared: &Shared) -> Option<Msg<T>> {
        if !self.closed && shared.closing.load(Ordering::Acquire) {
            self.close();
        }
        self.rx.recv().await
    }

    /// Up to `limit` messages at once into `buf` (0: closed and empty); closes the channel first
    /// if the queue is stopping.
    async fn next_many(&mut self, shared: &Shared, buf: &mut Vec<Msg<T>>, limit: usize) -> usize {
        if !self.closed && shared.closing.load(Ordering::Acquire) {
            self.close();
        }
        self.rx.recv_many(buf, limit).await
    }
}

impl<T> Rx<T> {
    fn close(&mut self) {
        if !self.closed {
            self.rx.close();
            self.closed = true;
        }
    }
}

/// Everything the workers share.
pub(crate) struct Core<T, H> {
    rx: tokio::sync::Mutex<Rx<T>>,
    /// For the wake-up message only.
    wake: mpsc::Sender<Msg<T>>,
    handler: H,
    shared: Arc<Shared>,
    retry: Retry,
    dead_letter: Option<DeadLetterHook<T>>,
    leftovers_hook: Option<LeftoversHook<T>>,
    drain_timeout: Option<Duration>,
    /// Set at the drain deadline: workers take no more items.
    expired: AtomicBool,
    /// Cancelled at the drain deadline: running attempts and back-offs end.
    deadline: CancellationToken,
    /// Items handed back by workers at the drain deadline; touched only then.
    handed_back: Mutex<Vec<T>>,
}

impl<T, H> Core<T, H> {
    pub(crate) fn new(
        (wake, rx): (mpsc::Sender<Msg<T>>, mpsc::Receiver<Msg<T>>),
        handler: H,
        shared: Arc<Shared>,
        retry: Retry,
        dead_letter: Option<DeadLetterHook<T>>,
        leftovers_hook: Option<LeftoversHook<T>>,
        drain_timeout: Option<Duration>,
    ) -> Self {
        Core {
            rx: tokio::sync::Mutex::new(Rx { rx, closed: false }),
            wake,
            handler,
            shared,
            retry,
            dead_letter,
            leftovers_hook,
            drain_timeout,
            expired: AtomicBool::new(false),
            deadline: CancellationToken::new(),
            handed_back: Mutex::new(Vec::new()),
        }
    }
}

/// The default drain timeout for a host shutdown timeout: the host gives bodies three quarters of
/// its timeout before it aborts them; of that, a fifth (at most 5 s) is left for the leftovers hook.
pub(crate) fn default_drain_timeout(shutdown_timeout: Duration) -> Duration {
    let bodies = crate::clock::fraction(shutdown_timeout, 3, 4);
    bodies.saturating_sub((bodies / 5).min(Duration::from_secs(5)))
}

/// The queue as a hosted service; its body is the workers and the shutdown drain.
pub(crate) struct QueueService<T, H> {
    core: Arc<Core<T, H>>,
}

impl<T, H> QueueService<T, H> {
    pub(crate) fn new(core: Core<T, H>) -> Self {
        QueueService { core: Arc::new(core) }
    }
}

impl<T, H> HostedService for QueueService<T, H>
where
    T: Clone + Send + 'static,
    H: Handler<T>,
{
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        drive(Arc::clone(&self.core), ctx).await;
        Ok(())
    }
}

async fn drive<T, H>(core: Arc<Core<T, H>>, ctx: &Context)
where
    T: Clone + Send + 'static,
    H: Handler<T>,
{
    // Workers 1.. are tasks of their own, aborted with the set if the host aborts this body;
    // worker 0 runs here. They run in the service's span, unless no subscriber wants it: entering
    // a span on every poll is not free even when it is disabled.
    let span = tracing::Span::current();
    let mut others = JoinSet::new();
    for w in 1..core.shared.counters.len() {
        let (core, ctx) = (Arc::clone(&core), ctx.fork());
        let work = async move { worker(&core, &ctx, w).await };
        if span.is_disabled() {
            others.spawn(work);
        } else {
            others.spawn(work.instrument(span.clone()));
        }
    }
    let workers = async {
        worker(&core, ctx, 0).await;
        while let Some(joined) = others.join_next().await {
            if let Err(error) = joined {
                // Items are attempted under `catch_unwind`: only an abort (or a bug) gets here.
                tracing::error!(%error, "a queue worker ended abnormally");
            }
        }
    };
    // The stop is watched from a task of its own, so that the workers' wake-ups never poll a
    // cancellation future; it ends with this body (the set aborts it when dropped).
    let mut watcher = JoinSet::new();
    watcher.spawn(watch(Arc::clone(&core), ctx.clone()).instrument(span));
    #[cfg(feature = "metrics")]
    watcher.spawn(crate::metrics::publish_queue(ctx.host().clone(), ctx.name().into()));
    // Workers end only once the channel is closed and empty (after the stop), or at the deadline.
    workers.await;
    // Every worker has ended: what the channel still holds, and what workers handed back, is left.
    let mut left = std::mem::take(&mut *core.handed_back.lock().unwrap_or_else(PoisonError::into_inner));
    {
        let mut rx = core.rx.lock().await;
        rx.close();
        while let Some(msg) = rx.rx.recv().await {
            if let Msg::Item(item) = msg {
                left.push(item);
            }
        }
    }
    let stats = core.shared.stats();
    #[cfg(feature = "metrics")]
    let publish = || {
        if let Some(stats) = ctx.host().queue_stats(ctx.name()) {
            crate::metrics::QueueMetrics::new(ctx.name()).record(stats);
        }
    };
    if left.is_empty() {
        #[cfg(feature = "metrics")]
        publish();
        tracing::info!(
            processed = stats.processed,
            dead_lettered = stats.dead_lettered,
            "queue drained: nothing left"
        );
        return;
    }
    let n = u64::try_from(left.len()).unwrap_or(u64::MAX);
    core.shared.handed_back.fetch_add(n, Ordering::Relaxed);
    match &core.leftovers_hook {
        Some(hook) => {
            tracing::warn!(
                handed_back = n,
                processed = stats.processed,
                "drain deadline reached; handing the unprocessed items to the leftovers hook"
            );
            if let Err(failure) = panic::catch_future(|| hook(left)).await {
                tracing::error!(error = %failure, handed_back = n, "the leftovers hook failed");
            }
        }
        None => tracing::error!(
            handed_back = n,
            processed = stats.processed,
            "drain deadline reached with items unprocessed, and the queue has no leftovers hook: they are dropped; \
             set `on_shutdown_leftovers` to keep them"
        ),
    }
    #[cfg(feature = "metrics")]
    publish();
}

/// At the stop: refuse producers, wake a parked worker, and start the drain deadline.
async fn watch<T, H>(core: Arc<Core<T, H>>, ctx: Context)
where
    T: Send + 'static,
{
    ctx.cancelled().await;
    // Producers see `closing` at once; the holder of the receiver (woken by the message below if
    // it is parked on an empty queue) closes the channel itself.
    core.shared.closing.store(true, Ordering::Release);
    // A full queue needs no wake-up: its workers are not parked, and check the flag on their next
    // receive.
    let _ = core.wake.try_send(Msg::Wake);
    let drain = core
        .drain_timeout
        .unwrap_or_else(|| default_drain_timeout(ctx.host().shutdown_timeout()));
    let stats = core.shared.stats();
    tracing::info!(
        queued = core.wake.max_capacity().saturating_sub(core.wake.capacity()),
        in_flight = stats.in_flight,
        drain_timeout = %humanize(drain),
        "queue closed; draining"
    );
    tokio::time::sleep(drain).await;
    core.expired.store(true, Ordering::Release);
    core.deadline.cancel();
}

/// One worker: takes items until the channel is closed and empty, or the drain deadline.
async fn worker<T, H>(core: &Core<T, H>, ctx: &Context, w: usize)
where
    T: Clone + Send + 'static,
    H: Handler<T>,
{
    let Some(counters) = core.shared.counters.get(w) else {
        return;
    };
    if core.shared.counters.len() == 1 {
        return lone_worker(core, ctx, counters).await;
    }
    // Several workers take turns with the receiver, holding it only while they wait for their
    // next item (one at a time: a slow item never holds back others that another worker could
    // take).
    loop {
        let msg = { core.rx.lock().await.next(&core.shared).await };
        let item = match msg {
            None => return, // closed and empty
            Some(Msg::Wake) => continue,
            Some(Msg::Item(item)) => item,
        };
        if core.expired.load(Ordering::Acquire) {
            // Past the drain deadline: this one and the rest of the channel are left over.
            return hand_back(core, item);
        }
        counters.took(1);
        attempt_all(core, ctx, counters, item).await;
        counters.settled();
    }
}

/// The most items a lone worker takes from the channel at once (and at most the capacity).
const BATCH: usize = 64;

/// A lone worker keeps the receiver for its whole life (no lock per item) and takes what is
/// queued in batches (one release of channel capacity per batch, not per item): it would process
/// them in this order anyway. Taken items count as in flight; at the drain deadline the unstarted
/// rest of a batch is handed back with the running one.
async fn lone_worker<T, H>(core: &Core<T, H>, ctx: &Context, counters: &Counters)
where
    T: Clone + Send + 'static,
    H: Handler<T>,
{
    let mut rx = core.rx.lock().await;
    let limit = BATCH.min(core.wake.max_capacity());
    // Allocated once; filled in order, then reversed so that `pop` takes the oldest.
    let mut batch: Vec<Msg<T>> = Vec::with_capacity(limit);
    loop {
        if batch.is_empty() {
            if rx.next_many(&core.shared, &mut batch, limit).await == 0 {
                return; // closed and empty
            }
            counters.took(u64::try_from(batch.len()).unwrap_or(u64::MAX));
            batch.reverse();
        }
        let Some(msg) = batch.pop() else { continue };
        let Msg::Item(item) = msg else {
            counters.settled(); // the wake-up was counted with the batch
            continue;
        };
        if core.expired.load(Ordering::Acquire) {
            hand_back(core, item);
            counters.settled();
            for msg in batch.drain(..) {
                if let Msg::Item(item) = msg {
                    hand_back(core, item);
                }
                counters.settled();
            }
            return;
        }
        attempt_all(core, ctx, counters, item).await;
        counters.settled();
    }
}

/// Attempts `item` until it succeeds, is dead-lettered, or the drain deadline hands it back.
async fn attempt_all<T, H>(core: &Core<T, H>, ctx: &Context, counters: &Counters, item: T)
where
    T: Clone + Send + 'static,
    H: Handler<T>,
{
    let mut attempt: u32 = 1;
    loop {
        // The attempt gets a copy; the original stays here until the item is settled.
        let Some(result) = attempt_once(core, ctx, item.clone()).await else {
            return hand_back(core, item);
        };
        let failure = match result {
            Ok(()) => {
                counters.processed();
                return;
            }
            Err(failure) => failure,
        };
        counters.failed();
        if attempt >= core.retry.attempts {
            counters.dead_lettered();
            return dead_letter(core, item, failure, attempt).await;
        }
        let delay = core.retry.delay(attempt);
        tracing::warn!(error = %failure, attempt, delay = %humanize(delay), "item failed; retrying after back-off");
        tokio::select! {
            biased;
            _ = core.deadline.cancelled() => return hand_back(core, item),
            _ = tokio::time::sleep(delay) => {}
        }
        counters.retried();
        attempt = attempt.saturating_add(1);
    }
}

/// One attempt: `None` if the drain deadline came first. The handler is polled first, and the
/// deadline only registered once the handler is pending: an attempt that completes at once costs
/// no registration. Panics, also in the handler's synchronous part, are the attempt's failure.
async fn attempt_once<T, H>(core: &Core<T, H>, ctx: &Context, copy: T) -> Option<Result<(), Failure>>
where
    T: Clone + Send + 'static,
    H: Handler<T>,
{
    // The call itself (the handler's code before its first `.await`) may panic too.
    let call = catch_unwind(AssertUnwindSafe(|| core.handler.call(copy, ctx.clone())));
    let mut run = match call {
        // Caught: its polls and its drop (also when the deadline drops it) with panics caught.
        Ok(run) => pin!(panic::Caught::new(run, panic::Untracked)),
        Err(payload) => return Some(Err(Failure::from_panic(payload))),
    };
    let mut deadline = pin!(None::<WaitForCancellationFuture<'_>>);
    poll_fn(|cx| {
        if let Poll::Ready(result) = run.as_mut().poll(cx) {
            return Poll::Ready(Some(panic::into_failure(result)));
        }
        if deadline.is_none() {
            deadline.set(Some(core.deadline.cancelled()));
        }
        match deadline.as_mut().as_pin_mut().map(|d| d.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    })
    .await
}

fn hand_back<T, H>(core: &Core<T, H>, item: T) {
    core.handed_back
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(item);
}

async fn dead_letter<T, H>(core: &Core<T, H>, item: T, error: Failure, attempts: u32) {
    match &core.dead_letter {
        Some(hook) => {
            let letter = DeadLetter {
                item,
                error,
                attempts,
                queue: Arc::clone(&core.shared.name),
            };
            if let Err(failure) = panic::catch_future(|| hook(letter)).await {
                tracing::error!(error = %failure, "the dead-letter hook failed");
            }
        }
        None => tracing::error!(
            queue = %core.shared.name,
            attempts,
            %error,
            "item failed on its last attempt; dead-lettered (dropped: the queue has no dead-letter hook)"
        ),
    }
}

/// A queue whose service never ran (not selected, or the host stopped before starting it) still
/// holds the items enqueued before: they cannot reach an `async` hook from here, so they are at
/// least counted and logged, never dropped silently.
impl<T, H> Drop for Core<T, H> {
    fn drop(&mut self) {
        let rx = self.rx.get_mut();
        rx.close();
        let mut lost: u64 = 0;
        while let Ok(msg) = rx.rx.try_recv() {
            if let Msg::Item(_) = msg {
                lost = lost.saturating_add(1);
            }
        }
        if lost > 0 {
            tracing::error!(
                queue = %self.shared.name,
                lost,
                "a queue whose service never ran was dropped with items in it; they are lost"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_drain_timeout_ends_before_the_hosts_body_deadline_with_room_for_the_hook() {
        let secs = Duration::from_secs;
        // Bodies have ¾ of the shutdown timeout; a fifth of that (at most 5 s) is the hook's.
        assert_eq!(default_drain_timeout(secs(30)), Duration::from_millis(18_000));
        assert_eq!(default_drain_timeout(secs(12)), Duration::from_millis(7_200));
        assert_eq!(default_drain_timeout(secs(100)), secs(70));
        assert_eq!(default_drain_timeout(Duration::ZERO), Duration::ZERO);
    }
}
