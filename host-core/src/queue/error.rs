//! Errors of the queue: an item refused ([`QueueError`], which hands the item back), and a handle
//! that cannot be found ([`LookupError`]).

use std::fmt;
use std::sync::Arc;

/// An item the queue did not accept; the item is always handed back.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum QueueError<T> {
    /// [`try_enqueue`](super::QueueHandle::try_enqueue) found the queue full. Retry later, shed the
    /// load, or use [`enqueue`](super::QueueHandle::enqueue), which waits for room.
    #[error("queue `{queue}` is full; the item was not enqueued")]
    Full {
        /// The queue's (service's) name.
        queue: Arc<str>,
        /// The item, handed back.
        item: T,
    },
    /// The host is shutting down (or the queue's service is not part of a running host any more):
    /// the queue accepts nothing new.
    #[error("queue `{queue}` is closed: the host is shutting down; the item was not enqueued")]
    Closed {
        /// The queue's (service's) name.
        queue: Arc<str>,
        /// The item, handed back.
        item: T,
    },
}

impl<T> QueueError<T> {
    /// The item that was not enqueued.
    pub fn into_item(self) -> T {
        match self {
            QueueError::Full { item, .. } | QueueError::Closed { item, .. } => item,
        }
    }

    /// The item that was not enqueued.
    pub fn item(&self) -> &T {
        match self {
            QueueError::Full { item, .. } | QueueError::Closed { item, .. } => item,
        }
    }

    /// The queue's name.
    pub fn queue(&self) -> &str {
        match self {
            QueueError::Full { queue, .. } | QueueError::Closed { queue, .. } => queue,
        }
    }

    /// Whether the queue was full (as opposed to closed).
    pub fn is_full(&self) -> bool {
        matches!(self, QueueError::Full { .. })
    }

    /// Whether the queue was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, QueueError::Closed { .. })
    }
}

/// `Debug` shows the message, not the item (which need not be `Debug`).
impl<T> fmt::Debug for QueueError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// [`HostHandle::queue`](crate::HostHandle::queue) found no queue, or more than one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No queue of this item type is part of the host.
    #[error("the host has no queue of `{item_type}`; queues: {known}")]
    NotFound {
        /// The item type asked for.
        item_type: &'static str,
        /// Every queue of the host, as `name: item type`.
        known: String,
    },
    /// Several queues take this item type: name the one you mean with
    /// [`HostHandle::queue_named`](crate::HostHandle::queue_named).
    #[error("the host has {} queues of `{item_type}`: {}; use `queue_named` to choose one", names.len(), names.join(", "))]
    Ambiguous {
        /// The item type asked for.
        item_type: &'static str,
        /// Their names.
        names: Vec<String>,
    },
    /// No queue has this name.
    #[error("the host has no queue named `{name}`; queues: {known}")]
    NoSuchName {
        /// The name asked for.
        name: String,
        /// Every queue of the host, as `name: item type`.
        known: String,
    },
    /// The queue with this name takes another item type.
    #[error("queue `{name}` takes `{actual}`, not `{requested}`")]
    WrongType {
        /// The queue's name.
        name: String,
        /// The item type asked for.
        requested: &'static str,
        /// The queue's item type.
        actual: &'static str,
    },
}
