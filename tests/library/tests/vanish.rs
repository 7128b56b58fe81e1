//! Services in a library crate: without a reference from the binary they vanish, and the host
//! fails with the fix instead of idling; with `use my_lib as _;` they run.
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn a_binary_that_never_refers_to_the_library_fails_with_the_fix() {
    let out = Command::new(env!("CARGO_BIN_EXE_without_use")).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no service to run"), "{stderr}");
    assert!(stderr.contains("`use my_lib as _;`"), "{stderr}");
}

#[test]
fn with_use_my_lib_as_underscore_the_librarys_services_run() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_with_use"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    for line in lines.by_ref() {
        let done = line.contains("cleaned up");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    seen.extend(lines);
    let status = child.wait().unwrap();
    let log = seen.join("\n");
    assert!(log.contains("host starting services=1"), "{log}");
    assert!(log.contains("name=my_lib::jobs::cleanup"), "{log}");
    assert_eq!(status.code(), Some(0), "{log}");
}
