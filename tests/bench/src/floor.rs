//! Scenario (e)'s floor: the least that any host of named, type-erased services with a status
//! each must do over spawning the bodies by hand, written as cheaply as this harness knows how.
//! Not a product: the yardstick that says how far host's start and shutdown could go without
//! giving up what makes it a host.
//!
//! Per service it keeps only what issue 15 keeps as guarantees, each in its cheapest form:
//! - the user's service is a value of its own type handed over before the start, so it is boxed
//!   behind a trait object (host: `Service::hosted`), and moved into its task at spawn;
//! - services start in name order, and a duplicate name is refused before anything starts
//!   (std's `sort_unstable_by` on the names, then a check of neighbours: one order, no hash set);
//! - the host can report on and stop each service after its task has ended: one shared state per
//!   service (its name, a state byte and a waker slot; host's is 160 bytes with status stamps,
//!   counters and a token made on demand), reached by the stop and by the report;
//! - the shutdown wakes every service, waits for every task in reverse start order, and returns a
//!   report naming each service with its outcome.
//!
//! Left out, so the floor is lower than any real host: panic catching, failure policies, status
//! timestamps, spans and logs, hooks, configuration, the watchdog.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::Poll;

use atomic_waker::AtomicWaker;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::probe::{GROUP_API, Guard, Probe};

/// A service's state once its body has returned (1 while it runs).
pub const STOPPED: u8 = 2;

/// What the host keeps per service for its whole life.
pub struct Shared {
    name: Arc<str>,
    state: AtomicU8,
    waker: AtomicWaker,
    stop: Arc<AtomicBool>,
}

impl Shared {
    /// Until the host stops.
    fn stopped(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| {
            if self.stop.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.stop.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

/// A type-erased service, as the user hands it to the host.
pub trait Erased: Send + 'static {
    fn spawn(self: Box<Self>, shared: Arc<Shared>) -> JoinHandle<()>;
}

/// The benchmark's body: marks that it runs, then waits for the stop.
pub struct Body {
    pub probe: &'static Probe,
    pub i: usize,
    pub _guard: Guard,
}

impl Erased for Body {
    fn spawn(self: Box<Self>, shared: Arc<Shared>) -> JoinHandle<()> {
        let body = *self;
        tokio::spawn(async move {
            let body = body;
            body.probe.tick(body.i, GROUP_API, Instant::now());
            shared.stopped().await;
            shared.state.store(STOPPED, Ordering::Release);
        })
    }
}

/// A running floor host.
pub struct Running {
    stop: Arc<AtomicBool>,
    shared: Vec<Arc<Shared>>,
    handles: Vec<JoinHandle<()>>,
}

/// Builds (order, duplicate check) and starts `services`.
pub fn start(mut services: Vec<(Arc<str>, Box<dyn Erased>)>) -> Running {
    services.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = services.windows(2).find(|w| w[0].0 == w[1].0) {
        panic!("duplicate service name {}", w[0].0);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut shared = Vec::with_capacity(services.len());
    let mut handles = Vec::with_capacity(services.len());
    for (name, body) in services {
        let s = Arc::new(Shared {
            name,
            state: AtomicU8::new(1),
            waker: AtomicWaker::new(),
            stop: stop.clone(),
        });
        handles.push(body.spawn(s.clone()));
        shared.push(s);
    }
    Running { stop, shared, handles }
}

impl Running {
    /// The stop request: the flag, then every service's waker.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        for s in &self.shared {
            s.waker.wake();
        }
    }

    /// Waits for every task in reverse start order; the report: each name with its state.
    pub async fn finish(mut self) -> Vec<(Arc<str>, u8)> {
        while let Some(h) = self.handles.pop() {
            h.await.expect("task");
        }
        self.shared
            .into_iter()
            .map(|s| (s.name.clone(), s.state.load(Ordering::Acquire)))
            .collect()
    }
}
