//! The work-queue example as a real process: e-mails POSTed over real HTTP on 127.0.0.1, then
//! SIGTERM: every accepted e-mail is sent before the process exits with code 0. Synchronised on log
//! lines and HTTP responses, never on sleeps.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// How long the test waits for a line or the exit before failing (a passing run never does).
const PATIENCE: Duration = Duration::from_secs(60);

fn example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "-p", "examples", "--example", "15_work_queue"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the example failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("15_work_queue")
}

/// The merged output of `child`, line by line.
fn lines(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

/// One HTTP/1.1 request; returns the status line.
fn post(addr: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("the example listens");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        s,
        "POST /emails HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn every_posted_email_is_sent_before_the_process_exits_0_on_sigterm() {
    const N: usize = 40;
    let mut child = Command::new(example())
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("PORT", "0")
        .env("SEND_MS", "50")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let lines = lines(&mut child);
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    let addr = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no `listening` line; output:\n{}", seen.join("\n")));
        seen.push(line.clone());
        if let Some(at) = line.find("listening addr=") {
            break line[at + "listening addr=".len()..].trim().to_owned();
        }
    };

    // 40 e-mails, 4 at a time, 50 ms each: most are still queued when SIGTERM arrives.
    for i in 0..N {
        let status = post(
            &addr,
            &format!(r#"{{"to":"user{i}@example.com","subject":"hello {i}"}}"#),
        );
        assert_eq!(status, "HTTP/1.1 202 Accepted", "e-mail {i}");
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the process did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    while let Ok(line) = lines.recv_timeout(PATIENCE) {
        seen.push(line);
    }
    let out = seen.join("\n");
    assert_eq!(status.code(), Some(0), "{out}");
    for i in 0..N {
        let sent = format!("e-mail sent to=user{i}@example.com ");
        assert_eq!(seen.iter().filter(|l| l.contains(&sent)).count(), 1, "user{i}:\n{out}");
    }
    assert!(out.contains("queue closed; draining"), "{out}");
    assert!(
        out.contains(&format!("queue drained: nothing left processed={N} dead_lettered=0")),
        "{out}"
    );
    assert!(out.contains("host stopped stopped=2"), "{out}");
}
