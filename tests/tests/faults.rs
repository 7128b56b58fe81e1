//! Blocking code, signals and exit codes, as real processes (`bin/faults.rs`) on every runtime
//! flavour: the shutdown bound holds against code that blocks its thread, signals are seen while a
//! hook blocks, only the guilty service is named, and only a second *signal* forces the exit.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::process::Proc;

const FLAVOURS: [&str; 3] = ["current", "one", "multi"];

fn faults(env: &[(&str, &str)]) -> Proc {
    Proc::spawn(Path::new(env!("CARGO_BIN_EXE_faults")), env)
}

/// The watchdog's last line: who kept the process alive.
fn stuck_line(out: &str) -> &str {
    out.lines()
        .find(|l| l.contains("the process did not end within the shutdown timeout and its grace"))
        .unwrap_or_else(|| panic!("no watchdog exit line:\n{out}"))
}

/// A body blocks its thread for 20 s after its token is cancelled; the timeout is 1 s. On every
/// flavour the process ends at the timeout plus the grace (not after 20 s), with exit code 3,
/// naming only the blocking service.
#[test]
fn a_body_blocking_its_thread_cannot_defeat_the_shutdown_bound() {
    for flavour in FLAVOURS {
        let mut p = faults(&[("FAULT_RUNTIME", flavour), ("FAULT_SCENARIO", "block-body")]);
        p.wait_for("host started");
        let signalled = Instant::now();
        p.signal("TERM");
        let (status, out) = p.wait();
        let took = signalled.elapsed();
        assert_eq!(status.code(), Some(host::STUCK_EXIT_CODE), "{flavour}:\n{out}");
        assert!(took < Duration::from_secs(10), "{flavour}: took {took:?}:\n{out}");
        let line = stuck_line(&out);
        assert!(line.contains("still_running=blocker"), "{flavour}: {line}");
        assert!(!line.contains("bystander"), "{flavour}: {line}");
        assert!(!out.contains("blocking ended"), "{flavour}:\n{out}");
    }
}

/// A start hook blocks for 20 s: a SIGTERM meanwhile is seen at once, and the process ends at the
/// timeout plus the grace; the service after it never starts.
#[test]
fn a_start_hook_blocking_its_thread_cannot_freeze_signal_handling() {
    for flavour in FLAVOURS {
        let mut p = faults(&[("FAULT_RUNTIME", flavour), ("FAULT_SCENARIO", "block-start")]);
        p.wait_for("blocking the thread now");
        let signalled = Instant::now();
        p.signal("TERM");
        let (status, out) = p.wait();
        let took = signalled.elapsed();
        assert_eq!(status.code(), Some(host::STUCK_EXIT_CODE), "{flavour}:\n{out}");
        assert!(took < Duration::from_secs(10), "{flavour}: took {took:?}:\n{out}");
        assert!(
            out.contains("signal received; shutting down gracefully"),
            "{flavour}:\n{out}"
        );
        assert!(stuck_line(&out).contains("still_running=blocker"), "{flavour}:\n{out}");
        assert!(
            !out.contains("name=bystander}: host::host: starting"),
            "{flavour}:\n{out}"
        );
    }
}

/// A start hook blocks for 2 s with a 30 s timeout: the SIGTERM that arrives meanwhile is logged
/// at once, and once the hook returns the host shuts down gracefully (exit 0) without starting the
/// next service.
#[test]
fn a_signal_during_a_blocking_start_hook_starts_a_graceful_shutdown() {
    for flavour in FLAVOURS {
        let mut p = faults(&[
            ("FAULT_RUNTIME", flavour),
            ("FAULT_SCENARIO", "block-start"),
            ("FAULT_BLOCK", "2s"),
            ("FAULT_TIMEOUT", "30s"),
        ]);
        p.wait_for("blocking the thread now");
        p.signal("TERM");
        let (status, out) = p.wait();
        assert_eq!(status.code(), Some(0), "{flavour}:\n{out}");
        let signal = out
            .find("signal received; shutting down gracefully")
            .expect("signal logged");
        let ended = out.find("blocking ended").expect("the block ended");
        assert!(
            signal < ended,
            "{flavour}: the signal was seen only after the block:\n{out}"
        );
        assert!(
            !out.contains("name=bystander}: host::host: starting"),
            "{flavour}:\n{out}"
        );
        assert!(out.contains("host stopped"), "{flavour}:\n{out}");
    }
}

/// A stop hook blocks for 20 s: a second signal exits at once with 130.
#[test]
fn a_second_signal_exits_at_once_while_a_stop_hook_blocks() {
    for flavour in FLAVOURS {
        let mut p = faults(&[
            ("FAULT_RUNTIME", flavour),
            ("FAULT_SCENARIO", "block-stop"),
            ("FAULT_TIMEOUT", "1h"),
        ]);
        p.wait_for("host started");
        p.signal("TERM");
        p.wait_for("blocking the thread now");
        let signalled = Instant::now();
        p.signal("TERM");
        let (status, out) = p.wait();
        assert_eq!(status.code(), Some(host::FORCED_EXIT_CODE), "{flavour}:\n{out}");
        assert!(signalled.elapsed() < Duration::from_secs(10), "{flavour}:\n{out}");
        assert!(
            out.contains("second signal during shutdown; exiting immediately"),
            "{flavour}:\n{out}"
        );
    }
}

/// A shutdown that `stop()` began: the SIGTERM an orchestrator then sends is logged and changes
/// nothing; the drain completes and the exit code is 0.
#[test]
fn a_first_signal_during_a_shutdown_begun_by_stop_changes_nothing() {
    let mut p = faults(&[("FAULT_SCENARIO", "stop-then-drain"), ("FAULT_TIMEOUT", "30s")]);
    p.wait_for("draining");
    p.signal("TERM");
    let (status, out) = p.wait();
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(out.contains("the shutdown already under way goes on"), "{out}");
    assert!(out.contains("drained"), "{out}");
    assert!(!out.contains("exiting immediately"), "{out}");
}

/// The same when a failure began the shutdown: the exit code stays 1.
#[test]
fn a_first_signal_during_a_shutdown_begun_by_a_failure_keeps_exit_code_1() {
    let mut p = faults(&[("FAULT_SCENARIO", "fail-then-drain"), ("FAULT_TIMEOUT", "30s")]);
    p.wait_for("draining");
    p.signal("TERM");
    let (status, out) = p.wait();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("the shutdown already under way goes on"), "{out}");
    assert!(out.contains("drained"), "{out}");
    assert!(out.contains("1 service failed: `failing`"), "{out}");
}

/// With the hard exit off (a host embedded in a larger program), the host never ends the
/// process: it lives until the blocking ends, and `main` decides the exit code.
#[test]
fn with_the_hard_exit_off_the_host_never_ends_the_process() {
    let mut p = faults(&[
        ("FAULT_SCENARIO", "block-body"),
        ("FAULT_BLOCK", "3s"),
        ("FAULT_HARD_EXIT", "0"),
    ]);
    p.wait_for("host started");
    p.signal("TERM");
    let (status, out) = p.wait();
    assert_eq!(status.code(), Some(3), "{out}");
    assert!(out.contains("blocking ended"), "{out}");
    assert!(out.contains("shutdown timed out after 1s; aborted: blocker"), "{out}");
    assert!(!out.contains("the process did not end"), "{out}");
}
