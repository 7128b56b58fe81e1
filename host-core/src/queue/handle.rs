//! [`QueueHandle`]: what producers hold.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::error::QueueError;
use super::stats::{Counters, QueueStats};
use super::worker::Msg;

/// What a queue's handles and its workers share: its name and counters.
pub(crate) struct Shared {
    pub(crate) name: Arc<str>,
    /// One per worker, indexed by worker.
    pub(crate) counters: Box<[Counters]>,
    /// Written only at shutdown.
    pub(crate) handed_back: AtomicU64,
    /// Set when the host begins to shut down: producers are refused from then on.
    pub(crate) closing: AtomicBool,
}

/// A producer's handle to a queue: enqueue items, read the counters.
///
/// Cheap to clone (two reference counts) and `Send + Sync`: put it in an axum `State`, a service's
/// field, or anywhere else producers can reach. Get it from
/// [`QueueBuilder::build`](super::QueueBuilder::build), or from the host with
/// [`HostHandle::queue`](crate::HostHandle::queue).
pub struct QueueHandle<T> {
    pub(crate) tx: mpsc::Sender<Msg<T>>,
    pub(crate) shared: Arc<Shared>,
}

impl<T> Clone for QueueHandle<T> {
    fn clone(&self) -> Self {
        QueueHandle {
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: Send + 'static> QueueHandle<T> {
    /// Enqueues `item`, waiting for room while the queue is full (backpressure).
    ///
    /// Fails only when the queue is closed (the host is shutting down, or the queue's service has
    /// ended), with the item in [`QueueError::Closed`]. Cancel-safe in the sense that dropping the
    /// future before it completes drops the item with it, and the item was then never enqueued.
    pub async fn enqueue(&self, item: T) -> Result<(), QueueError<T>> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(self.closed(item));
        }
        // Reserve, then send: a refused reservation leaves the item with us.
        match self.tx.reserve().await {
            Ok(permit) => {
                permit.send(Msg::Item(item));
                Ok(())
            }
            Err(_) => Err(self.closed(item)),
        }
    }

    /// Enqueues `item` if there is room now: otherwise hands it back in [`QueueError::Full`]
    /// (or [`QueueError::Closed`] once the host is shutting down).
    pub fn try_enqueue(&self, item: T) -> Result<(), QueueError<T>> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(self.closed(item));
        }
        match self.tx.try_reserve() {
            Ok(permit) => {
                permit.send(Msg::Item(item));
                Ok(())
            }
            Err(TrySendError::Full(())) => Err(QueueError::Full {
                queue: Arc::clone(&self.shared.name),
                item,
            }),
            Err(TrySendError::Closed(())) => Err(self.closed(item)),
        }
    }

    fn closed(&self, item: T) -> QueueError<T> {
        QueueError::Closed {
            queue: Arc::clone(&self.shared.name),
            item,
        }
    }
}

impl<T> QueueHandle<T> {
    /// The queue's (and its service's) name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The most items that can wait in the queue.
    pub fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// Whether the queue accepts no more items.
    pub fn is_closed(&self) -> bool {
        self.shared.closing.load(Ordering::Acquire) || self.tx.is_closed()
    }

    /// The queue's counters now. Reading them takes no lock and never slows the workers.
    pub fn stats(&self) -> QueueStats {
        let mut s = self.shared.stats();
        s.depth = u64::try_from(self.tx.max_capacity().saturating_sub(self.tx.capacity())).unwrap_or(u64::MAX);
        s
    }
}

impl Shared {
    /// Every counter but `depth`.
    pub(crate) fn stats(&self) -> QueueStats {
        let mut s = QueueStats::default();
        for c in &*self.counters {
            c.add_to(&mut s);
        }
        s.handed_back = self.handed_back.load(Ordering::Relaxed);
        s
    }
}

impl<T> fmt::Debug for QueueHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueHandle")
            .field("name", &self.name())
            .field("stats", &self.stats())
            .finish()
    }
}
