//! systemd notifications (feature `systemd`), received on a Unix datagram socket that the test
//! binds as `NOTIFY_SOCKET` for a child process: this test binary itself, re-run as the host
//! (environment variables are process-wide, so the host runs in a process of its own).
#![cfg(unix)]

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use host::{BoxError, Context, FailurePolicy, Host, HostedService, Service};

/// How long the test waits for an expected notification before failing (a passing run never
/// waits this long).
const PATIENCE: Duration = Duration::from_secs(60);
/// The watchdog period the child is given: it pings every 100 ms.
const WATCHDOG_USEC: &str = "200000";
/// How long the stuck child must stay silent: ten ping periods.
const SILENCE: Duration = Duration::from_secs(1);

/// The socket systemd would listen on, and a child host notifying it.
struct Manager {
    socket: UnixDatagram,
    dir: PathBuf,
    child: Child,
}

impl Manager {
    fn start(mode: &str) -> Manager {
        let dir = std::env::temp_dir().join(format!("host-systemd-{}-{mode}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_host", "--ignored", "--nocapture", "--test-threads=1"])
            .env("HOST_SYSTEMD_CHILD", mode)
            .env("NOTIFY_SOCKET", &path)
            .env("WATCHDOG_USEC", WATCHDOG_USEC)
            .env_remove("WATCHDOG_PID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Manager { socket, dir, child }
    }

    /// The next datagram, or `None` after `wait`.
    fn next(&self, wait: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        match self.socket.recv(&mut buf) {
            Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => None,
            Err(e) => panic!("{e}"),
        }
    }

    /// Reads datagrams until one satisfies `want`; returns every datagram read, in order.
    fn until(&self, what: &str, want: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let Some(msg) = self.next(PATIENCE) else {
                panic!("no {what} within {PATIENCE:?}; received: {seen:?}")
            };
            let done = want(&msg);
            seen.push(msg);
            if done {
                return seen;
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn ready_status_lines_watchdog_pings_and_stopping_are_sent_and_sigterm_exits_0() {
    let mut m = Manager::start("clean");
    let first = m.until("STATUS=starting", |d| d.contains("STATUS="));
    assert_eq!(first, ["STATUS=starting 2 services\n"]);
    let seen = m.until("READY=1", |d| d.contains("READY=1"));
    assert_eq!(seen.last().unwrap(), "READY=1\nSTATUS=running 2 services\n");
    // Pings keep coming while the host runs.
    for _ in 0..3 {
        m.until("WATCHDOG=1", |d| d == "WATCHDOG=1\n");
    }
    // A service fails (policy `ignore`): the status line says so.
    m.signal("USR2");
    m.until("the failure in STATUS=", |d| {
        d == "STATUS=running 2 services; failed: fails-on-usr2\n"
    });
    m.signal("TERM");
    let seen = m.until("STOPPING=1", |d| d.contains("STOPPING=1"));
    assert_eq!(seen.last().unwrap(), "STOPPING=1\nSTATUS=stopping\n");
    let status = m.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn watchdog_pings_stop_when_the_hosts_runtime_is_stuck() {
    let m = Manager::start("stuck");
    m.until("READY=1", |d| d.contains("READY=1"));
    m.until("a first WATCHDOG=1", |d| d == "WATCHDOG=1\n");
    m.signal("USR1");
    // The service says it is about to block the runtime's only thread, from that thread.
    m.until("STATUS=blocking", |d| d == "STATUS=blocking the runtime\n");
    // Nothing after that: no ping for ten ping periods (systemd would kill it after two).
    assert_eq!(m.next(SILENCE), None);
}

/// Waits for cancellation.
struct Idle;

impl HostedService for Idle {}

/// Fails on SIGUSR2.
struct FailsOnUsr2;

impl HostedService for FailsOnUsr2 {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        let mut usr2 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined2())?;
        tokio::select! {
            _ = ctx.cancelled() => Ok(()),
            _ = usr2.recv() => Err("told to fail".into()),
        }
    }
}

/// Blocks the runtime's thread after SIGUSR1.
struct Blocker;

impl HostedService for Blocker {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())?;
        tokio::select! {
            _ = ctx.cancelled() => {}
            _ = usr1.recv() => {
                host::systemd::notify_status("blocking the runtime")?;
                // A service that never yields: the current-thread runtime stops polling every task.
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        Ok(())
    }
}

/// Not a test: the host the tests above run as a child process (skipped otherwise).
#[test]
#[ignore = "run by the other tests as their child process"]
fn child_host() {
    let Ok(mode) = std::env::var("HOST_SYSTEMD_CHILD") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        let mut builder = Host::builder().discover(false).service(Service::hosted("idle", Idle));
        builder = match mode.as_str() {
            "stuck" => builder.service(Service::hosted("blocker", Blocker)),
            _ => builder.service(Service::hosted("fails-on-usr2", FailsOnUsr2).on_failure(FailurePolicy::Ignore)),
        };
        builder.build()?.run().await
    });
    if let Err(e) = &result {
        eprintln!("{e}");
    }
    std::process::exit(i32::from(result.is_err()));
}
