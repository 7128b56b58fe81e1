//! The queue's counters: written per worker with relaxed stores, summed on read.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a queue's counters, from [`QueueHandle::stats`](super::QueueHandle::stats).
///
/// Counters are cumulative since the queue was built. Once the queue has stopped,
/// `processed + dead_lettered + handed_back` equals the number of items accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct QueueStats {
    /// Items waiting in the queue.
    pub depth: u64,
    /// Items taken by a worker and not yet settled (running, or waiting for a retry).
    pub in_flight: u64,
    /// Items whose handler returned `Ok`.
    pub processed: u64,
    /// Failed attempts (errors and panics), retried or not.
    pub failed: u64,
    /// Attempts that were retries.
    pub retried: u64,
    /// Items given to the dead-letter hook after their last attempt failed.
    pub dead_lettered: u64,
    /// Items given to the leftovers hook at shutdown.
    pub handed_back: u64,
}

/// One worker's counters, on a cache line of their own: only that worker writes them.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    in_flight: AtomicU64,
    processed: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
}

/// Adds to a counter only its worker writes: a load and a store, no read-modify-write.
fn bump(counter: &AtomicU64, by: u64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(by), Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn took(&self, n: u64) {
        bump(&self.in_flight, n);
    }
    /// The item left the worker (processed, dead-lettered or handed back).
    pub(crate) fn settled(&self) {
        bump(&self.in_flight, u64::MAX); // wrapping: minus one
    }
    pub(crate) fn processed(&self) {
        bump(&self.processed, 1);
    }
    pub(crate) fn failed(&self) {
        bump(&self.failed, 1);
    }
    pub(crate) fn retried(&self) {
        bump(&self.retried, 1);
    }
    pub(crate) fn dead_lettered(&self) {
        bump(&self.dead_lettered, 1);
    }

    pub(crate) fn add_to(&self, s: &mut QueueStats) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        s.in_flight = s.in_flight.wrapping_add(get(&self.in_flight));
        s.processed = s.processed.wrapping_add(get(&self.processed));
        s.failed = s.failed.wrapping_add(get(&self.failed));
        s.retried = s.retried.wrapping_add(get(&self.retried));
        s.dead_lettered = s.dead_lettered.wrapping_add(get(&self.dead_lettered));
    }
}
