//! [`Queue::builder`]: a queue's handler, options and hooks; [`QueueBuilder::build`] makes the
//! service and the producers' handle.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use tokio::sync::mpsc;

use super::handle::{QueueHandle, Shared};
use super::registry::Entry;
use super::retry::Retry;
use super::stats::Counters;
use super::worker::{Core, QueueService};
use crate::context::Context;
use crate::error::{BoxError, Failure};
use crate::service::{IntoResult, IntoResultFuture};
use crate::slot::Service;

pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
pub(crate) type DeadLetterHook<T> = Box<dyn Fn(DeadLetter<T>) -> BoxFuture + Send + Sync>;
pub(crate) type LeftoversHook<T> = Box<dyn Fn(Vec<T>) -> BoxFuture + Send + Sync>;

/// What a queue can carry: any `Clone + Send + 'static` type.
///
/// `Clone`, because the queue keeps the original item until it is settled: each attempt gets a
/// copy, so a failed item can be retried and an unfinished one handed back at shutdown. For a large
/// item, enqueue an `Arc<T>`: the copies are then reference counts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a queue item: it must be `Clone + Send + 'static`",
    label = "the queue's item type",
    note = "the queue keeps each item until it is settled and gives every attempt a copy: derive `Clone` (or enqueue an `Arc<{Self}>`), and own the data (no references)"
)]
pub trait QueueItem: Clone + Send + 'static {}

impl<T: Clone + Send + 'static> QueueItem for T {}

/// The default capacity: 1024 items.
const DEFAULT_CAPACITY: usize = 1024;

/// What processes a queue's items: one call per attempt.
///
/// Implemented for every closure `Fn(T, Context) -> impl Future<Output = R>` where `R` is `()` or
/// `Result<(), E>` with `E: Into<BoxError>`, and by `#[host::queue_worker]` for an `async fn`.
/// Several workers call it at once, hence `Fn` and `Sync`.
pub trait Handler<T>: Send + Sync + 'static {
    /// Processes one attempt of `item`. `ctx` is the queue service's context: its token is
    /// cancelled when the host begins to shut down, while the queue keeps draining; an attempt
    /// still running at the drain deadline is dropped and its item handed back.
    fn call(&self, item: T, ctx: Context) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl<T, F, Fut, R> Handler<T> for F
where
    F: Fn(T, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send,
    R: IntoResult,
{
    fn call(&self, item: T, ctx: Context) -> impl Future<Output = Result<(), BoxError>> + Send {
        IntoResultFuture { fut: self(item, ctx) }
    }
}

/// An item whose last attempt failed, as the dead-letter hook receives it.
#[derive(Debug)]
#[non_exhaustive]
pub struct DeadLetter<T> {
    /// The item.
    pub item: T,
    /// Why its last attempt failed (an error or a panic).
    pub error: Failure,
    /// How many attempts were made.
    pub attempts: u32,
    /// The queue's name.
    pub queue: Arc<str>,
}

/// Where queues are built: [`Queue::builder`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Queue;

impl Queue {
    /// A queue named `name` (its service's name) whose items `handler` processes.
    ///
    /// Defaults: capacity 1024, concurrency 1, [`Retry::new`] (3 attempts), dead letters and
    /// leftovers logged at `ERROR`, drain timeout derived from the host's shutdown timeout.
    pub fn builder<T, H>(name: impl Into<Arc<str>>, handler: H) -> QueueBuilder<T, H>
    where
        T: QueueItem,
        H: Handler<T>,
    {
        QueueBuilder {
            name: name.into(),
            handler,
            capacity: DEFAULT_CAPACITY,
            concurrency: 1,
            retry: Retry::new(),
            dead_letter: None,
            leftovers: None,
            drain_timeout: None,
        }
    }
}

/// Options of a queue; [`build`](Self::build) makes its service and handle.
#[must_use = "a QueueBuilder does nothing until `.build()`"]
pub struct QueueBuilder<T, H> {
    name: Arc<str>,
    handler: H,
    capacity: usize,
    concurrency: usize,
    retry: Retry,
    dead_letter: Option<DeadLetterHook<T>>,
    leftovers: Option<LeftoversHook<T>>,
    drain_timeout: Option<Duration>,
}

impl<T, H> QueueBuilder<T, H> {
    /// The most items that may wait (at least 1; default 1024). A full queue makes
    /// [`enqueue`](QueueHandle::enqueue) wait and [`try_enqueue`](QueueHandle::try_enqueue) fail.
    ///
    /// With concurrency 1, the worker takes what is queued in batches of up to 64 (at most the
    /// capacity), which frees their places at once: the queue then holds at most twice its
    /// capacity (the batch counts as in flight). With several workers, each takes one item at a
    /// time, so that a slow item never holds back others another worker could take.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        self
    }

    /// How many items are processed at once (at least 1; default 1). Each worker beyond the first
    /// is a task of its own, so CPU-bound handlers run in parallel on a multi-threaded runtime.
    pub fn concurrency(mut self, workers: usize) -> Self {
        self.concurrency = workers.max(1);
        self
    }

    /// Retries of failed items (default [`Retry::new`]: 3 attempts).
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Receives every item whose last attempt failed (default: logs it at `ERROR` with the queue's
    /// name, the attempts and the error). A panic in the hook is caught and logged.
    pub fn dead_letter<F, Fut>(mut self, hook: F) -> Self
    where
        T: 'static,
        F: Fn(DeadLetter<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.dead_letter = Some(Box::new(move |d| Box::pin(hook(d))));
        self
    }

    /// Receives, once at shutdown, every item left unprocessed at the drain deadline (queued, or
    /// with an attempt still running): persist them, for instance. Not called when nothing is left.
    /// Default: logs their number at `ERROR`. It runs within the host's shutdown timeout.
    pub fn on_shutdown_leftovers<F, Fut>(mut self, hook: F) -> Self
    where
        T: 'static,
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.leftovers = Some(Box::new(move |items| Box::pin(hook(items))));
        self
    }

    /// How long the queue keeps draining after the host began to shut down; then what is left
    /// goes to the leftovers hook.
    ///
    /// Default: the three quarters of the host's shutdown timeout that bodies get before the host
    /// aborts them (see [`Host::run`](crate::Host::run)), minus a fifth of that (at most 5 s) for
    /// the leftovers hook to run (30 s → 18 s, 12 s → 7.2 s, 100 s → 70 s).
    /// A drain timeout beyond three quarters of the host's shutdown timeout risks the host aborting the queue
    /// before its hook ran: those items would be lost (and the host names the queue as aborted).
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = Some(timeout);
        self
    }

    /// Sets every option at once; for the code `#[queue_worker]` generates.
    #[doc(hidden)]
    pub fn configure(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }
}

impl<T, H> QueueBuilder<T, H>
where
    T: QueueItem,
    H: Handler<T>,
{
    /// The queue's service (give it to [`Builder::service`](crate::Builder::service)) and the
    /// producers' handle.
    ///
    /// Items may be enqueued before the host runs; they wait (up to the capacity) until it starts.
    #[track_caller]
    pub fn build(self) -> (Service, QueueHandle<T>) {
        let QueueBuilder {
            name,
            handler,
            capacity,
            concurrency,
            retry,
            dead_letter,
            leftovers,
            drain_timeout,
        } = self;
        let (tx, rx) = mpsc::channel(capacity);
        let shared = Arc::new(Shared {
            name: Arc::clone(&name),
            counters: (0..concurrency).map(|_| Counters::default()).collect(),
            handed_back: AtomicU64::new(0),
            closing: AtomicBool::new(false),
        });
        let handle = QueueHandle {
            tx: tx.clone(),
            shared: Arc::clone(&shared),
        };
        let core = Core::new((tx, rx), handler, shared, retry, dead_letter, leftovers, drain_timeout);
        let mut service = Service::hosted(name, QueueService::new(core));
        service.extras_mut().queue = Some(Arc::new(Entry::new(handle.clone())));
        (service, handle)
    }
}

impl<T, H> std::fmt::Debug for QueueBuilder<T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueBuilder")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .field("drain_timeout", &self.drain_timeout)
            .finish_non_exhaustive()
    }
}
