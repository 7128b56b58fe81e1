//! A typed background work queue: producers hand items of a type `T` to a bounded queue, a
//! supervised service processes them with `N` workers, and shutdown drains it without losing an
//! item. ASP.NET Core's `IBackgroundTaskQueue` sample, made a part of the host.
//!
//! ```no_run
//! use host::queue::{Queue, Retry};
//! use std::time::Duration;
//!
//! #[derive(Clone, Debug)]
//! struct Email { to: String }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let (service, queue) = Queue::builder("mailer", |email: Email, _ctx: host::Context| async move {
//!         tracing::info!(to = %email.to, "sent");
//!         Ok::<_, std::io::Error>(())
//!     })
//!     .capacity(1000)
//!     .concurrency(4)
//!     .retry(Retry::new().attempts(5).initial(Duration::from_millis(100)))
//!     .build();
//! // Give `queue` (cheap to clone, `Send + Sync`) to producers: request handlers, other services.
//! let producer = queue.clone();
//! tokio::spawn(async move { producer.enqueue(Email { to: "ada@example.com".into() }).await });
//! host::Host::builder().service(service).build()?.run().await?;
//! # Ok(()) }
//! ```
//!
//! With the attribute, `#[host::queue_worker(capacity = 1000, concurrency = 4)]` on an
//! `async fn send(item: Email, ctx: Context) -> anyhow::Result<()>` registers the same service;
//! producers look the handle up from the host with [`HostHandle::queue`](crate::HostHandle::queue)
//! (`ctx.host().queue::<Email>()` in a service, `host.handle().queue::<Email>()` before running).
//!
//! # Guarantees
//!
//! - **Bounded**: at most `capacity` items wait; [`QueueHandle::enqueue`] waits for room,
//!   [`QueueHandle::try_enqueue`] returns the item in [`QueueError::Full`].
//! - **Isolated failures**: an error or a panic in one item is caught and counted; the item is
//!   retried after a back-off ([`Retry`]) and, after the last attempt, handed to the dead-letter
//!   hook (default: logged at `ERROR` with the queue's name, the attempts and the error). The
//!   workers go on.
//! - **Shutdown without loss**: when the host begins to shut down, the queue closes
//!   (enqueueing returns the item in [`QueueError::Closed`]), the workers finish the items in
//!   flight and drain the queued ones until the drain deadline
//!   ([`QueueBuilder::drain_timeout`], by default a little less than the host's shutdown timeout).
//!   What is left then, including attempts still running (their futures are dropped), is handed to
//!   the leftovers hook ([`QueueBuilder::on_shutdown_leftovers`]; default: logged at `ERROR`),
//!   counted and logged.
//!
//! **Invariant**: every item accepted by `enqueue`/`try_enqueue` is, exactly once, processed
//! (an attempt returned `Ok`), dead-lettered, or handed back. An item whose attempt was cancelled
//! at the drain deadline is handed back even if the handler had already done part of its work:
//! delivery to the handler is *at least once*, accounting is *exactly once*.
//!
//! # Design
//!
//! - The channel is tokio's bounded `mpsc`: its `close()` refuses new items while buffered ones
//!   can still be received, and `recv()` after `close()` returns `None` only when no send is in
//!   progress, so an item enqueued concurrently with the close is either received (and drained or
//!   handed back) or returned to its producer as `Closed`, never stranded.
//! - Workers are tasks of their own (concurrency 1 runs in the service's task), sharing the
//!   receiver behind tokio's fair mutex, held only while waiting for the next item. A lone worker
//!   keeps the receiver and takes what is queued in batches of up to 64 (at most the capacity),
//!   which count as in flight. The stop reaches a worker parked on an empty queue as a wake-up
//!   message through the channel, so no cancellation future is polled per item.
//! - Spawned workers hand their handler clones of a [`Context`](crate::Context) of their own (same
//!   name, token and host): the per-item clone never bounces a reference count between CPUs.
//! - The handler receives each attempt's item by value; the queue keeps the original (`T: Clone`)
//!   until the item is settled, so it can retry it or hand it back. Wrap large items in an `Arc`.
//! - Counters are per worker, written only by their worker (no shared cache line per item), and
//!   summed by [`QueueHandle::stats`].

mod builder;
mod error;
mod handle;
pub(crate) mod registry;
mod retry;
mod stats;
mod worker;

pub use builder::{DeadLetter, Handler, Queue, QueueBuilder, QueueItem};
pub use error::{LookupError, QueueError};
pub use handle::QueueHandle;
pub use retry::Retry;
pub use stats::QueueStats;
