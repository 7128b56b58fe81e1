//! Shared helpers for the runtime tests: an event recorder on tokio's (paused) clock.
#![allow(dead_code)]

pub mod process;
pub mod replicas;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Records `(what, when)` pairs, `when` measured from the recorder's creation.
#[derive(Clone)]
pub struct Recorder {
    t0: Instant,
    events: Arc<Mutex<Vec<(String, Duration)>>>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            t0: Instant::now(),
            events: Arc::default(),
        }
    }

    pub fn record(&self, what: impl Into<String>) {
        let at = self.t0.elapsed();
        self.events.lock().unwrap().push((what.into(), at));
    }

    pub fn events(&self) -> Vec<(String, Duration)> {
        self.events.lock().unwrap().clone()
    }

    pub fn names(&self) -> Vec<String> {
        self.events().into_iter().map(|(w, _)| w).collect()
    }

    /// The instants (since creation) of every event named `what`.
    pub fn times(&self, what: &str) -> Vec<Duration> {
        self.events()
            .into_iter()
            .filter(|(w, _)| w == what)
            .map(|(_, t)| t)
            .collect()
    }

    pub fn elapsed(&self) -> Duration {
        self.t0.elapsed()
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A host builder for tests: no discovery, no signal handling.
pub fn builder() -> host::Builder {
    host::Host::builder().discover(false).catch_signals(false)
}

/// Stops the host `after` the given (virtual) time once it has started.
pub fn stop_after(handle: &host::HostHandle, after: Duration) {
    let handle = handle.clone();
    tokio::spawn(async move {
        handle.wait_for(host::Phase::Started).await;
        tokio::time::sleep(after).await;
        handle.stop();
    });
}
