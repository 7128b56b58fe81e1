//! The HTTP endpoints (feature `http`) over real HTTP on 127.0.0.1, and the dashboard in a real
//! headless Chromium.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use host::http::{Health, Snapshot};
use host::{
    BoxError, Context, FailurePolicy, Host, HostHandle, HostedService, Phase, Restart, Schedule, Service, Tick,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

/// How long a test waits for a condition before failing (a passing run never waits this long).
const PATIENCE: Duration = Duration::from_secs(60);

/// Serves `handle`'s endpoints on an ephemeral port of 127.0.0.1.
async fn serve(handle: &HostHandle) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app: axum::Router = host::http::router(handle.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `GET path` over HTTP/1.1: the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete response");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    assert!(
        head.to_ascii_lowercase().contains("cache-control: no-store"),
        "{path} must not be cached: {head}"
    );
    (code, body.to_owned())
}

async fn status_json(addr: SocketAddr) -> Value {
    let (code, body) = get(addr, "/status").await;
    assert_eq!(code, 200);
    serde_json::from_str(&body).unwrap()
}

/// Waits until `cond` holds for the host's status (polling; fails after [`PATIENCE`]).
async fn until(handle: &HostHandle, what: &str, cond: impl Fn(&Snapshot) -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if cond(&Snapshot::of(handle)) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn service<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {json}"))
}

/// A service whose start hook waits for `gate`, and whose body, once cancelled, asks the
/// readiness endpoint (while it is still draining) and reports the answer.
struct Gated {
    gate: Arc<Notify>,
    addr: Arc<std::sync::OnceLock<SocketAddr>>,
    ready_while_draining: tokio::sync::mpsc::UnboundedSender<(u16, String)>,
}

impl HostedService for Gated {
    async fn start(&mut self, _ctx: &Context) -> Result<(), BoxError> {
        self.gate.notified().await;
        Ok(())
    }

    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        ctx.cancelled().await;
        let addr = *self.addr.get().expect("the server is up");
        let _ = self.ready_while_draining.send(get(addr, "/health/ready").await);
        Ok(())
    }
}

#[tokio::test]
async fn readiness_is_503_while_starting_200_once_started_and_503_from_the_first_instant_of_shutdown() {
    let gate = Arc::new(Notify::new());
    let addr_cell = Arc::new(std::sync::OnceLock::new());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::hosted(
            "gated",
            Gated {
                gate: gate.clone(),
                addr: addr_cell.clone(),
                ready_while_draining: tx,
            },
        ))
        .build()
        .unwrap();
    let handle = host.handle();
    let addr = serve(&handle).await;
    addr_cell.set(addr).unwrap();

    assert_eq!(get(addr, "/health/ready").await, (503, "not ready: created\n".into()));
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Starting).await;
    assert_eq!(get(addr, "/health/ready").await, (503, "not ready: starting\n".into()));
    assert_eq!(get(addr, "/health/live").await, (200, "live\n".into()));

    gate.notify_one();
    handle.wait_for(Phase::Started).await;
    assert_eq!(get(addr, "/health/ready").await, (200, "ready\n".into()));

    // This test runs on a current-thread runtime: between `stop()` and the next `.await` no other
    // task runs, so the host is still `Started`, and yet readiness already says no.
    handle.stop();
    assert_eq!(handle.phase(), Phase::Started);
    let snapshot = Snapshot::of(&handle);
    assert!(!snapshot.ready);
    assert_eq!(snapshot.phase, "started");
    assert_eq!(
        get(addr, "/health/ready").await,
        (503, "not ready: shutting down\n".into())
    );
    // And over HTTP from inside a service that is still draining.
    assert_eq!(rx.recv().await.unwrap(), (503, "not ready: shutting down\n".into()));

    run.await.unwrap().unwrap();
    assert_eq!(get(addr, "/health/ready").await.0, 503);
    assert_eq!(
        get(addr, "/health/live").await,
        (503, "not live: the host has stopped\n".into())
    );
}

#[tokio::test]
async fn status_is_json_with_every_documented_field_and_wall_clock_times() {
    let ran = Arc::new(Notify::new());
    let notify = ran.clone();
    let job = move |_: Context, _: Tick| {
        let notify = notify.clone();
        async move {
            notify.notify_one();
            Ok::<_, BoxError>(())
        }
    };
    let schedule = Schedule::every(Duration::from_secs(3600))
        .jitter(Duration::from_secs(1))
        .timeout(Duration::from_secs(20));
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::periodic("hourly", schedule, job))
        .service(Service::hosted("listener", Idle).order(-1))
        .build()
        .unwrap();
    let handle = host.handle();
    let addr = serve(&handle).await;
    let before = SystemTime::now();
    let run = tokio::spawn(host.run());
    ran.notified().await;
    until(&handle, "the first run to end", |s| {
        s.services.iter().any(|s| s.name == "hourly" && s.state == "waiting")
    })
    .await;
    let json = status_json(addr).await;
    let after = SystemTime::now();

    assert_eq!(json["phase"], "started");
    assert_eq!(json["live"], true);
    assert_eq!(json["ready"], true);
    assert_eq!(json["health"], "healthy");
    let names: Vec<&str> = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["listener", "hourly"], "start order");

    let hourly = service(&json, "hourly");
    let keys: Vec<&str> = hourly.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "name",
        "kind",
        "state",
        "health",
        "schedule",
        "runs",
        "failures",
        "consecutive_failures",
        "restarts",
        "last_error",
        "last_run_started",
        "last_run_ended",
        "next_run",
    ] {
        assert!(keys.contains(&key), "{key} missing from {hourly}");
    }
    assert_eq!(hourly["kind"], "periodic");
    assert_eq!(hourly["state"], "waiting");
    assert_eq!(hourly["health"], "healthy");
    assert_eq!(hourly["schedule"], "every 1h, jitter 1s, timeout 20s");
    assert_eq!(hourly["runs"], 1);
    assert_eq!(hourly["failures"], 0);
    assert_eq!(hourly["restarts"], 0);
    assert_eq!(hourly["last_error"], Value::Null);
    let time = |v: &Value| humantime::parse_rfc3339(v.as_str().unwrap_or_else(|| panic!("a time: {v}"))).unwrap();
    let (started, ended, next) = (
        time(&hourly["last_run_started"]),
        time(&hourly["last_run_ended"]),
        time(&hourly["next_run"]),
    );
    // Millisecond timestamps: allow the truncation of `before`.
    let before = before - Duration::from_millis(1);
    assert!(before <= started && started <= ended && ended <= after, "{hourly}");
    // The next run is one hour (plus up to 1 s of jitter) after the first.
    let gap = next.duration_since(started).unwrap();
    assert!(
        gap >= Duration::from_secs(3599) && gap <= Duration::from_secs(3601),
        "{gap:?}"
    );

    let listener = service(&json, "listener");
    assert_eq!(listener["kind"], "hosted");
    assert_eq!(listener["state"], "running");
    assert_eq!(listener["schedule"], Value::Null);
    assert_eq!(listener["next_run"], Value::Null);

    handle.stop();
    run.await.unwrap().unwrap();
}

/// Waits for cancellation.
struct Idle;

impl HostedService for Idle {}

/// Fails (ending its body) when told to; stops when cancelled.
struct FailsOnCue(Arc<Notify>);

impl HostedService for FailsOnCue {
    async fn run(&mut self, ctx: &Context) -> Result<(), BoxError> {
        tokio::select! {
            _ = ctx.cancelled() => Ok(()),
            _ = self.0.notified() => Err("the connection to the broker was lost".into()),
        }
    }
}

#[tokio::test]
async fn failing_runs_are_degraded_and_a_failed_service_fails_liveness() {
    let cue = Arc::new(Notify::new());
    let failing = |_: Context, _: Tick| async { Err::<(), _>("upstream returned 502") };
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::periodic(
            "import",
            Schedule::every(Duration::from_millis(5)),
            failing,
        ))
        .service(Service::hosted("consumer", FailsOnCue(cue.clone())).on_failure(FailurePolicy::Ignore))
        .service(Service::hosted("fine", Idle))
        .build()
        .unwrap();
    let handle = host.handle();
    let addr = serve(&handle).await;
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;

    // Three failed runs in a row: degraded, yet live.
    until(&handle, "3 failed runs", |s| {
        s.services
            .iter()
            .any(|s| s.name == "import" && s.consecutive_failures >= 3)
    })
    .await;
    let json = status_json(addr).await;
    assert_eq!(service(&json, "import")["health"], "degraded");
    assert_eq!(service(&json, "import")["last_error"], "upstream returned 502");
    assert_eq!(service(&json, "fine")["health"], "healthy");
    assert_eq!(json["health"], "degraded");
    assert_eq!(get(addr, "/health/live").await, (200, "live\n".into()));

    // A body that failed under `ignore`: failed, and liveness says so, naming it.
    cue.notify_one();
    until(&handle, "consumer failed", |s| {
        s.services
            .iter()
            .any(|s| s.name == "consumer" && s.health == Health::Failed)
    })
    .await;
    let json = status_json(addr).await;
    assert_eq!(service(&json, "consumer")["state"], "failed");
    assert_eq!(
        service(&json, "consumer")["last_error"],
        "the connection to the broker was lost"
    );
    assert_eq!(json["health"], "failed");
    assert_eq!(json["live"], false);
    assert_eq!(
        get(addr, "/health/live").await,
        (503, "not live: failed: consumer\n".into())
    );
    // Readiness is about start-up and shutdown only.
    assert_eq!(get(addr, "/health/ready").await.0, 200);

    handle.stop();
    run.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_restarting_service_is_degraded() {
    let cue = Arc::new(Notify::new());
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(
            Service::hosted("flaky", FailsOnCue(cue.clone())).on_failure(FailurePolicy::Restart(
                Restart::new().initial(Duration::from_secs(3600)),
            )),
        )
        .build()
        .unwrap();
    let handle = host.handle();
    let addr = serve(&handle).await;
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    assert_eq!(service(&status_json(addr).await, "flaky")["health"], "healthy");
    cue.notify_one();
    until(&handle, "flaky restarting", |s| s.services[0].state == "restarting").await;
    let json = status_json(addr).await;
    assert_eq!(service(&json, "flaky")["health"], "degraded");
    // The restart is due in one hour.
    assert!(service(&json, "flaky")["next_run"].is_string());
    assert_eq!(get(addr, "/health/live").await.0, 200);
    handle.stop();
    run.await.unwrap().unwrap();
}

/// Debian's `chromium` (or `chromium-browser`) on the PATH.
fn chromium() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The DOM of `url` after its scripts ran, from headless Chromium kept off the network.
async fn dump_dom(browser: &std::path::Path, url: &str) -> String {
    let profile = std::env::temp_dir().join(format!("host-dashboard-test-{}", std::process::id()));
    let run = tokio::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PATIENCE, run)
        .await
        .expect("chromium finishes")
        .expect("chromium starts");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A 1400×560 screenshot of `url`, for a person to look at.
async fn screenshot(browser: &std::path::Path, url: &str, png: &std::path::Path) {
    let profile = std::env::temp_dir().join(format!("host-dashboard-shot-{}", std::process::id()));
    let status = tokio::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .args(["--hide-scrollbars", "--window-size=1400,560"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .kill_on_drop(true)
        .status()
        .await
        .expect("chromium starts");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success());
}

/// The rendered table row of `service` (only the page's script creates these).
fn row<'a>(dom: &'a str, service: &str) -> (usize, &'a str) {
    let marker = format!("data-service=\"{service}\"");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no row for {service} in:\n{dom}"));
    let start = dom[..at].rfind("<tr").unwrap();
    let end = at + dom[at..].find("</tr>").unwrap();
    (start, &dom[start..end])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_every_service_with_its_state_in_a_real_browser_failing_first() {
    let Some(browser) = chromium() else {
        // CI must run this test: `.ci/run` installs chromium.
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing (.ci/run installs it)"
        );
        eprintln!("skipped: chromium is not installed (`apt-get install chromium`)");
        return;
    };
    let cue = Arc::new(Notify::new());
    let failing = |_: Context, _: Tick| async { Err::<(), _>("upstream returned <502> & died") };
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::hosted("api-server", Idle).order(-1))
        .service(Service::periodic(
            "nightly",
            Schedule::every(Duration::from_secs(86_400)),
            |_, _| async {},
        ))
        .service(Service::periodic(
            "import",
            Schedule::every(Duration::from_millis(5)),
            failing,
        ))
        .service(Service::hosted("consumer", FailsOnCue(cue.clone())).on_failure(FailurePolicy::Ignore))
        .build()
        .unwrap();
    let handle = host.handle();
    let addr = serve(&handle).await;
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    cue.notify_one();
    until(&handle, "consumer failed, import degraded, nightly waiting", |s| {
        let health = |n: &str| s.services.iter().find(|s| s.name == n).map(|s| (s.state, s.health));
        health("consumer") == Some(("failed", Health::Failed))
            && health("import").is_some_and(|(_, h)| h == Health::Degraded)
            && health("nightly") == Some(("waiting", Health::Healthy))
    })
    .await;

    let dom = dump_dom(&browser, &format!("http://{addr}/")).await;
    // `HOST_DASHBOARD_SCREENSHOT=/tmp/d.png cargo test -p tests --test http dashboard` to look at it.
    if let Some(png) = std::env::var_os("HOST_DASHBOARD_SCREENSHOT") {
        screenshot(&browser, &format!("http://{addr}/"), std::path::Path::new(&png)).await;
    }
    let (consumer_at, consumer) = row(&dom, "consumer");
    let (import_at, import) = row(&dom, "import");
    let (api_at, api) = row(&dom, "api-server");
    let (nightly_at, nightly) = row(&dom, "nightly");
    for (r, name, state, health) in [
        (consumer, "consumer", "failed", "failed"),
        (api, "api-server", "running", "healthy"),
        (nightly, "nightly", "waiting", "healthy"),
    ] {
        assert!(r.contains(&format!(">{name}</div>")), "{name}: {r}");
        assert!(
            r.contains(&format!(">{state}</span>")),
            "{name} should show {state}: {r}"
        );
        assert!(
            r.contains(&format!(">{health}</span>")),
            "{name} should show {health}: {r}"
        );
    }
    // The periodic run may be running or waiting at the instant of the request; degraded either way.
    assert!(
        import.contains(">import</div>") && import.contains(">degraded</span>"),
        "{import}"
    );
    assert!(
        import.contains("upstream returned &lt;502&gt; &amp; died"),
        "the error, escaped: {import}"
    );
    assert!(nightly.contains(">every 1day</div>"), "the schedule: {nightly}");
    // Failing first, then degraded, then the rest in start order.
    assert!(consumer_at < import_at && import_at < api_at && api_at < nightly_at);
    assert!(
        dom.contains("id=\"host-phase\" class=\"pill green\">started</span>"),
        "the phase"
    );

    handle.stop();
    run.await.unwrap().unwrap();
}
