//! A handful of jobs built through `#[host::periodic(every = "100ms")]`, to check that the macro
//! path costs what the programmatic one does. They are registered for discovery, so only a host
//! built with `.discover(true)` runs them (scenario a); their probe slots start at [`BASE`].
//!
//! While `host-macros` was still a stub (the attribute returned the item unchanged) these compiled
//! to plain unused functions and the harness reported "macro path: unavailable".
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::probe::{GROUP_MACRO, probe};

/// How many macro jobs there are.
pub const COUNT: usize = 8;

/// Probe slot of the first macro job.
pub static BASE: AtomicUsize = AtomicUsize::new(0);

/// How many of them `#[host::periodic]` registered for discovery: [`COUNT`], or 0 while the
/// attribute does not register anything yet.
pub fn registered() -> usize {
    let host = host::Host::builder()
        .discover(true)
        .catch_signals(false)
        .build()
        .expect("the macro jobs build");
    let names: Vec<&str> = host.service_names().collect();
    assert!(
        names.is_empty() || names.len() == COUNT,
        "expected the {COUNT} services of macro_jobs.rs to be registered, found {names:?}"
    );
    names.len()
}

#[host::periodic(every = "100ms")]
async fn bench_macro_0(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed), GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_1(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 1, GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_2(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 2, GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_3(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 3, GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_4(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 4, GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_5(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 5, GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_6(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 6, GROUP_MACRO, tick.scheduled());
}

#[host::periodic(every = "100ms")]
async fn bench_macro_7(tick: host::Tick) {
    probe().tick(BASE.load(Relaxed) + 7, GROUP_MACRO, tick.scheduled());
}
