//! Real processes: the example binaries under SIGTERM/SIGINT, a failing service, a straggler, and a
//! second signal. Unpaused by nature; synchronised on log lines, never on sleeps.
#![cfg(unix)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::process::Proc;

/// Builds the examples once per test binary and returns the path of `name`.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "examples",
                "--example",
                "01_quickstart",
                "--example",
                "14_exit_codes",
                "--example",
                "16_web_app",
                "--example",
                "19_configuration",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs");
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    if let Err(e) = built {
        panic!("building the examples failed:\n{e}");
    }
    // target/<profile>/deps/<this test> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

fn graceful_stop_on(sig: &str) {
    let mut p = Proc::spawn(&example("01_quickstart"), &[]);
    p.wait_for("host started");
    p.signal(sig);
    let (status, out) = p.wait();
    assert_eq!(status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "signal received; shutting down gracefully signal=\"SIG{sig}\""
        )),
        "{out}"
    );
    for service in [
        "01_quickstart::refresh_cache",
        "01_quickstart::mailer",
        "01_quickstart::Metrics",
    ] {
        for step in ["starting", "started", "stopping", "stopped"] {
            assert!(
                out.lines()
                    .any(|l| l.contains(&format!("name={service}")) && l.contains(&format!(": {step}"))),
                "no `{step}` line for {service}:\n{out}"
            );
        }
    }
    assert!(out.contains("mail queue drained"), "{out}");
    assert!(out.contains("metrics flushed"), "{out}");
    assert!(out.contains("host stopped"), "{out}");
}

#[test]
fn sigterm_stops_every_service_gracefully_and_exits_0() {
    graceful_stop_on("TERM");
}

#[test]
fn sigint_stops_every_service_gracefully_and_exits_0() {
    graceful_stop_on("INT");
}

#[test]
fn a_failing_service_under_stop_host_exits_1() {
    let (status, out) = Proc::spawn(&example("14_exit_codes"), &[("HOST_DEMO", "fail")]).wait();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(out.contains("service failed; stopping the host"), "{out}");
    assert!(out.contains("lost the connection to ingest"), "{out}");
    assert!(out.contains("1 service failed: `ingest`"), "{out}");
}

#[test]
fn a_service_ignoring_cancellation_is_aborted_at_the_timeout_and_exits_3() {
    let mut p = Proc::spawn(
        &example("14_exit_codes"),
        &[("HOST_DEMO", "stuck"), ("HOST_SHUTDOWN_TIMEOUT", "1s")],
    );
    p.wait_for("host started");
    let signalled = Instant::now();
    p.signal("TERM");
    let (status, out) = p.wait();
    let took = signalled.elapsed();
    assert_eq!(status.code(), Some(3), "{out}");
    // The timeout (1 s) plus a margin for a loaded machine.
    assert!(took < Duration::from_secs(6), "shutdown took {took:?}:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("name=stubborn") && l.contains("still running at its shutdown deadline; aborted")),
        "{out}"
    );
    assert!(out.contains("shutdown timed out after 1s; aborted: stubborn"), "{out}");
}

#[test]
fn a_second_signal_during_shutdown_exits_at_once_with_130() {
    let mut p = Proc::spawn(
        &example("14_exit_codes"),
        &[("HOST_DEMO", "stuck"), ("HOST_SHUTDOWN_TIMEOUT", "1h")],
    );
    p.wait_for("host started");
    p.signal("INT");
    p.wait_for("host stopping");
    p.signal("INT");
    let (status, out) = p.wait();
    assert_eq!(status.code(), Some(host::FORCED_EXIT_CODE), "{out}");
    assert!(
        out.contains("second signal during shutdown; exiting immediately"),
        "{out}"
    );
}

/// `GET path` on 127.0.0.1:`port`: the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.split(' ').nth(1).unwrap().parse().unwrap(), body.to_owned())
}

#[test]
fn the_web_app_serves_the_host_endpoints_and_exits_0_on_sigterm() {
    let mut p = Proc::spawn(&example("16_web_app"), &[("PORT", "0")]);
    // The two lines come from two tasks, in either order.
    p.wait_for("host started");
    let listening = "listening on http://127.0.0.1:";
    let line = match p.seen.iter().find(|l| l.contains(listening)) {
        Some(line) => line.clone(),
        None => p.wait_for(listening),
    };
    let port: u16 = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("a port in {line:?}"));
    assert_eq!(http_get(port, "/health/ready"), (200, "ready\n".into()));
    assert_eq!(http_get(port, "/health/live"), (200, "live\n".into()));
    assert_eq!(http_get(port, "/hello"), (200, "hello from the web app\n".into()));
    let (code, status) = http_get(port, "/status");
    assert_eq!(code, 200);
    for name in [
        "web",
        "refresh-cache",
        "sync-orders",
        "flaky-import",
        "nightly-report",
        "mailer",
    ] {
        assert!(status.contains(&format!("\"name\":\"{name}\"")), "{name} in {status}");
    }
    let (code, page) = http_get(port, "/");
    assert_eq!(code, 200);
    assert!(page.contains("<title>host · services</title>"));
    p.signal("TERM");
    let (exit, log) = p.wait();
    assert_eq!(exit.code(), Some(0), "{log}");
    assert!(log.contains("web server drained"), "{log}");
}

/// The real process environment reaches the configuration (the other configuration
/// tests give the variables as a map): over the example's file, and a bad value exits 2.
#[test]
fn environment_variables_override_the_file_and_a_bad_one_exits_2() {
    let mut p = Proc::spawn(
        &example("19_configuration"),
        &[("HOST_REPORT_EVERY", "2s"), ("HOST_CLEANUP_ENABLED", "true")],
    );
    // `every` from the variable, `jitter` from the file; `cleanup` switched back on
    // (logged in start order: by name)
    p.wait_for("configured service=\"cleanup\" schedule=every 30s");
    p.wait_for("configured service=\"report\" schedule=every 2s, jitter 1s");
    p.wait_for("host started");
    p.signal("TERM");
    let (status, out) = p.wait();
    assert_eq!(status.code(), Some(0), "{out}");

    let (status, out) = Proc::spawn(&example("19_configuration"), &[("HOST_REPORT_EVERY", "5M")]).wait();
    assert_eq!(status.code(), Some(2), "{out}");
    assert!(
        out.contains("invalid configuration: HOST_REPORT_EVERY: service `report`: invalid duration `\"5M\"`: "),
        "{out}"
    );
    assert!(!out.contains("host starting"), "{out}");
}
