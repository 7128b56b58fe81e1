//! The host's queues, for producers that look their handle up instead of being given it:
//! [`HostHandle::queue`] and [`HostHandle::queue_named`].
//!
//! The list is filled once, when the host is built, from the services that are queues; it is read
//! without a lock.
//!
//! For the status snapshot and the shutdown report: `HostHandle::queue_stats(name)` (public) or
//! `handle.queues().stats(name)` (crate) returns the [`QueueStats`] of the service `name` if it is
//! a queue, `None` otherwise; it reads atomics only, and keeps working after the host stopped.

use std::any::{Any, TypeId, type_name};
use std::sync::{Arc, OnceLock};

use super::error::LookupError;
use super::handle::QueueHandle;
use super::stats::QueueStats;
use crate::handle::HostHandle;
use crate::slot::Service;

/// A queue as the registry holds it, without its item type.
pub(crate) trait AnyQueue: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn item_type(&self) -> TypeId;
    fn item_type_name(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
    fn stats(&self) -> QueueStats;
}

/// The typed entry behind an [`AnyQueue`].
pub(crate) struct Entry<T> {
    handle: QueueHandle<T>,
}

impl<T> Entry<T> {
    pub(crate) fn new(handle: QueueHandle<T>) -> Self {
        Entry { handle }
    }
}

impl<T: Send + 'static> AnyQueue for Entry<T> {
    fn name(&self) -> &str {
        self.handle.name()
    }
    fn item_type(&self) -> TypeId {
        TypeId::of::<T>()
    }
    fn item_type_name(&self) -> &'static str {
        type_name::<T>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn stats(&self) -> QueueStats {
        self.handle.stats()
    }
}

/// The queues of one host, set once when the host is built.
#[derive(Default)]
pub(crate) struct Queues(OnceLock<Box<[Arc<dyn AnyQueue>]>>);

impl Queues {
    /// Records the queues among `services` (called once, by `Builder::build`).
    pub(crate) fn register<'a>(&self, services: impl Iterator<Item = &'a Service>) {
        let queues: Box<[Arc<dyn AnyQueue>]> = services.filter_map(|s| s.queue().cloned()).collect();
        // Set once per host: a second call (none today) would keep the first list.
        let _ = self.0.set(queues);
    }

    fn all(&self) -> &[Arc<dyn AnyQueue>] {
        self.0.get().map_or(&[], |q| &q[..])
    }

    fn known(&self) -> String {
        let all = self.all();
        if all.is_empty() {
            return "none".to_owned();
        }
        all.iter()
            .map(|q| format!("`{}`: {}", q.name(), q.item_type_name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The counters of the queue `service`, if that service is a queue: for the status snapshot
    /// and the shutdown report.
    pub(crate) fn stats(&self, service: &str) -> Option<QueueStats> {
        self.all().iter().find(|q| q.name() == service).map(|q| q.stats())
    }
}

fn downcast<T: Send + 'static>(q: &dyn AnyQueue) -> Option<QueueHandle<T>> {
    q.as_any().downcast_ref::<Entry<T>>().map(|e| e.handle.clone())
}

impl HostHandle {
    /// The handle of the host's queue of `T` items, for producers: request handlers, other
    /// services (`ctx.host().queue::<Email>()`), code holding the host's handle.
    ///
    /// Available as soon as the host is built (items enqueued before it runs wait for it). Fails
    /// when the host has no queue of `T`, or several (then use [`queue_named`](Self::queue_named)).
    ///
    /// ```
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let (service, _) = host::queue::Queue::builder("mailer", |to: String, _ctx: host::Context| async move {
    ///     tracing::info!(%to, "sent");
    /// })
    /// .build();
    /// let host = host::Host::builder().discover(false).service(service).build()?;
    /// let mailer = host.handle().queue::<String>()?;
    /// mailer.enqueue("ada@example.com".to_owned()).await?;
    /// # Ok(()) }
    /// ```
    pub fn queue<T: Send + 'static>(&self) -> Result<QueueHandle<T>, LookupError> {
        let queues = self.queues();
        let mut matching = queues.all().iter().filter(|q| q.item_type() == TypeId::of::<T>());
        match (matching.next(), matching.next()) {
            (Some(q), None) => downcast(&**q).ok_or_else(|| wrong_type::<T>(&**q)),
            (None, _) => Err(LookupError::NotFound {
                item_type: type_name::<T>(),
                known: queues.known(),
            }),
            (Some(_), Some(_)) => Err(LookupError::Ambiguous {
                item_type: type_name::<T>(),
                names: queues
                    .all()
                    .iter()
                    .filter(|q| q.item_type() == TypeId::of::<T>())
                    .map(|q| q.name().to_owned())
                    .collect(),
            }),
        }
    }

    /// The counters of the queue whose service is named `service`; `None` if that service is not
    /// a queue. The status snapshot and the shutdown report read queues through this.
    pub fn queue_stats(&self, service: &str) -> Option<QueueStats> {
        self.queues().stats(service)
    }

    /// The handle of the host's queue named `name`, whose items are `T`.
    pub fn queue_named<T: Send + 'static>(&self, name: &str) -> Result<QueueHandle<T>, LookupError> {
        let queues = self.queues();
        let q = queues
            .all()
            .iter()
            .find(|q| q.name() == name)
            .ok_or_else(|| LookupError::NoSuchName {
                name: name.to_owned(),
                known: queues.known(),
            })?;
        downcast(&**q).ok_or_else(|| wrong_type::<T>(&**q))
    }
}

/// The error for a queue whose item type is not `T`.
fn wrong_type<T>(q: &dyn AnyQueue) -> LookupError {
    LookupError::WrongType {
        name: q.name().to_owned(),
        requested: type_name::<T>(),
        actual: q.item_type_name(),
    }
}
