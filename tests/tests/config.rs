//! Issue 11: every operator-tunable option of a service, and the host's shutdown timeout, from a
//! TOML file and from environment variables, over the attribute; lowest precedence first:
//! attribute, file, environment. The environment is given as an explicit map
//! (`Builder::config_env`), so that no test touches the process's variables; `process.rs` checks
//! the real environment on a real process.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use host::{Error, FailurePolicy, Host, HostedService, Restart, Service};
use tokio::time::Instant;

fn name(ident: &str) -> String {
    format!("{}::{ident}", module_path!())
}

/// A file in the temp directory with `text`, named after the test.
fn file(test: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("host-config-{}-{test}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// The registered services of this file that a test looks at, the file and the variables given.
fn build(services: &[&str], file: Option<PathBuf>, env: &[(&str, &str)]) -> Result<Host, Error> {
    let mut builder = Host::builder()
        .only(services.iter().map(|s| name(s)))
        .catch_signals(false)
        .config_env(env.iter().map(|(k, v)| (*k, *v)));
    if let Some(file) = file {
        builder = builder.config_file(file);
    }
    builder.build()
}

fn service<'a>(host: &'a Host, ident: &str) -> &'a Service {
    host.services().find(|s| s.name() == name(ident)).unwrap()
}

fn schedule(host: &Host, ident: &str) -> String {
    format!("{:?}", service(host, ident).schedule().unwrap())
}

fn error(result: Result<Host, Error>) -> String {
    let error = result.unwrap_err();
    assert_eq!(error.exit_code(), std::process::ExitCode::from(2), "{error}");
    error.to_string()
}

static TICKS: std::sync::Mutex<Vec<Instant>> = std::sync::Mutex::new(Vec::new());

#[host::periodic(every = "10s")]
async fn tick() {
    TICKS.lock().unwrap().push(Instant::now());
}

#[host::periodic(every = "1h", jitter = "1m", timeout = "5m", max_failures = 2, order = 3, on_failure = restart(initial = "2s"))]
async fn report() {}

#[host::hosted_service(order = 1)]
async fn mailer(ctx: host::Context) {
    ctx.cancelled().await;
}

static CONSTRUCTED: AtomicU32 = AtomicU32::new(0);

#[host::hosted_service(new = Expensive::new)]
struct Expensive;

impl Expensive {
    fn new() -> Self {
        CONSTRUCTED.fetch_add(1, Ordering::SeqCst);
        Expensive
    }
}

impl HostedService for Expensive {}

// ---- every option, from the file ----

#[test]
fn every_option_of_a_periodic_service_from_the_file() {
    let path = file(
        "every-option",
        r#"
shutdown_timeout = "7s"

[services."config::report"]
fixed_delay = "20m"
initial_delay = "30s"
jitter = "10s"
timeout = "1m"
max_failures = 5
order = -4
on_failure = "restart"
restart = { initial = "3s", max = "1m", factor = 3.0, jitter = 0.5, max_restarts = 7, window = "10m" }

[services.tick]
every = "45s"
missed_ticks = "burst"
timeout = "none"
"#,
    );
    let host = build(&["report", "tick"], Some(path), &[]).unwrap();
    assert_eq!(
        schedule(&host, "report"),
        "Schedule { trigger: FixedDelay(1200s), initial_delay: 30s, jitter: 10s, missed: Skip, timeout: Some(60s), \
         max_failures: Some(5), singleton: None }"
    );
    assert_eq!(
        schedule(&host, "tick"),
        "Schedule { trigger: Every(45s), initial_delay: 0ns, jitter: 0ns, missed: Burst, timeout: None, max_failures: None, singleton: None }"
    );
    let report = service(&host, "report");
    assert_eq!(report.start_order(), -4);
    assert_eq!(
        report.failure_policy(),
        Some(FailurePolicy::Restart(
            Restart::new()
                .initial(Duration::from_secs(3))
                .max(Duration::from_secs(60))
                .factor(3.0)
                .jitter(0.5)
                .max_restarts(7)
                .window(Duration::from_secs(600))
        ))
    );
    assert!(format!("{host:?}").contains("shutdown_timeout: 7s"), "{host:?}");
}

#[test]
fn cron_and_time_zone_from_the_file_replace_the_attributes_every() {
    let path = file(
        "cron",
        "[services.tick]\ncron = \"30 2 * * *\"\ntz = \"Europe/Berlin\"\nmissed_ticks = \"delay\"\n",
    );
    let host = build(&["tick"], Some(path), &[]).unwrap();
    let schedule = service(&host, "tick").schedule().unwrap().to_string();
    assert!(schedule.starts_with("cron `30 2 * * *`"), "{schedule}");
    assert!(schedule.contains("Europe/Berlin"), "{schedule}");
}

#[test]
fn the_policy_and_order_of_a_hosted_service_from_the_file() {
    let path = file("hosted", "[services.mailer]\norder = 9\non_failure = \"ignore\"\n");
    let host = build(&["mailer"], Some(path), &[]).unwrap();
    let mailer = service(&host, "mailer");
    assert_eq!(mailer.start_order(), 9);
    assert_eq!(mailer.failure_policy(), Some(FailurePolicy::Ignore));
}

// ---- every option, from the environment ----

#[test]
fn every_option_from_the_environment() {
    let env = [
        ("HOST_SHUTDOWN_TIMEOUT", "12s"),
        ("HOST_REPORT_EVERY", "2h"),
        ("HOST_REPORT_INITIAL_DELAY", "1m"),
        ("HOST_REPORT_JITTER", "0s"),
        ("HOST_REPORT_MISSED_TICKS", "delay"),
        ("HOST_REPORT_TIMEOUT", "10m"),
        ("HOST_REPORT_MAX_FAILURES", "none"),
        ("HOST_REPORT_ORDER", "8"),
        ("HOST_REPORT_ON_FAILURE", "restart"),
        ("HOST_REPORT_RESTART_INITIAL", "5s"),
        ("HOST_REPORT_RESTART_MAX", "50s"),
        ("HOST_REPORT_RESTART_FACTOR", "1.5"),
        ("HOST_REPORT_RESTART_JITTER", "0.2"),
        ("HOST_REPORT_RESTART_MAX_RESTARTS", "2"),
        ("HOST_REPORT_RESTART_WINDOW", "1h"),
        // the full name works too: every character but letters and digits becomes `_`
        ("HOST_CONFIG__TICK_FIXED_DELAY", "15s"),
        ("HOST_MAILER_ON_FAILURE", "stop-host"),
        // not ours: no option's name at the end
        ("HOST_IP", "10.0.0.1"),
    ];
    let host = build(&["report", "tick", "mailer"], None, &env).unwrap();
    assert_eq!(
        schedule(&host, "report"),
        "Schedule { trigger: Every(7200s), initial_delay: 60s, jitter: 0ns, missed: Delay, timeout: Some(600s), \
         max_failures: None, singleton: None }"
    );
    assert_eq!(
        schedule(&host, "tick"),
        "Schedule { trigger: FixedDelay(15s), initial_delay: 0ns, jitter: 0ns, missed: Skip, timeout: None, max_failures: None, singleton: None }"
    );
    let report = service(&host, "report");
    assert_eq!(report.start_order(), 8);
    assert_eq!(
        report.failure_policy(),
        Some(FailurePolicy::Restart(
            Restart::new()
                .initial(Duration::from_secs(5))
                .max(Duration::from_secs(50))
                .factor(1.5)
                .jitter(0.2)
                .max_restarts(2)
                .window(Duration::from_secs(3600))
        ))
    );
    assert_eq!(service(&host, "mailer").failure_policy(), Some(FailurePolicy::StopHost));
    assert!(format!("{host:?}").contains("shutdown_timeout: 12s"), "{host:?}");
}

#[test]
fn cron_and_time_zone_from_the_environment() {
    let env = [
        ("HOST_TICK_CRON", "0 */5 * * * *"),
        ("HOST_TICK_TZ", "America/New_York"),
    ];
    let host = build(&["tick"], None, &env).unwrap();
    let schedule = service(&host, "tick").schedule().unwrap().to_string();
    assert!(schedule.starts_with("cron `0 */5 * * * *`"), "{schedule}");
    assert!(schedule.contains("America/New_York"), "{schedule}");
}

// ---- precedence ----

#[test]
fn the_environment_overrides_the_file_which_overrides_the_attribute() {
    // attribute: every 1h, jitter 1m, timeout 5m, max_failures 2, order 3, restart(initial 2s)
    let path = file(
        "precedence",
        "shutdown_timeout = \"3s\"\n[services.report]\nevery = \"2h\"\njitter = \"2m\"\norder = 4\nrestart = { max = \"40s\" }\n",
    );
    let env = [
        ("HOST_REPORT_EVERY", "3h"),
        ("HOST_REPORT_RESTART_MAX", "45s"),
        ("HOST_SHUTDOWN_TIMEOUT", "4s"),
    ];
    let host = build(&["report"], Some(path), &env).unwrap();
    assert_eq!(
        schedule(&host, "report"),
        // every: env; jitter: file; timeout and max_failures: attribute
        "Schedule { trigger: Every(10800s), initial_delay: 0ns, jitter: 120s, missed: Skip, timeout: Some(300s), \
         max_failures: Some(2), singleton: None }"
    );
    let report = service(&host, "report");
    assert_eq!(report.start_order(), 4, "file");
    assert_eq!(
        report.failure_policy(),
        // initial: attribute; max: env over file
        Some(FailurePolicy::Restart(
            Restart::new()
                .initial(Duration::from_secs(2))
                .max(Duration::from_secs(45))
        ))
    );
    assert!(format!("{host:?}").contains("shutdown_timeout: 4s"), "{host:?}");
}

#[test]
fn without_configuration_the_attribute_stands() {
    let path = file("off", "[services.report]\nevery = \"2h\"\n");
    let host = Host::builder()
        .only([name("report")])
        .config_file(path)
        .config_env([("HOST_REPORT_EVERY", "3h")])
        .config(false)
        .build()
        .unwrap();
    assert!(schedule(&host, "report").starts_with("Schedule { trigger: Every(3600s)"));
}

/// The schedule from the environment is the one the service runs on.
#[tokio::test(start_paused = true)]
async fn a_periodic_service_runs_on_the_schedule_from_the_environment() {
    let host = build(
        &["tick"],
        None,
        &[("HOST_TICK_EVERY", "25s"), ("HOST_TICK_INITIAL_DELAY", "5s")],
    )
    .unwrap();
    let handle = host.handle();
    let start = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        handle.stop();
    });
    host.run().await.unwrap();
    let at: Vec<Duration> = TICKS.lock().unwrap().iter().map(|t| t.duration_since(start)).collect();
    assert_eq!(
        at,
        [Duration::from_secs(5), Duration::from_secs(30), Duration::from_secs(55)]
    );
}

// ---- enabled ----

#[test]
fn a_service_disabled_in_the_file_or_the_environment_is_never_constructed() {
    let path = file("disabled", "[services.Expensive]\nenabled = false\n");
    let host = build(&["Expensive", "mailer"], Some(path), &[]).unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), [name("mailer")]);
    let host = build(&["Expensive", "mailer"], None, &[("HOST_EXPENSIVE_ENABLED", "false")]).unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), [name("mailer")]);
    assert_eq!(CONSTRUCTED.load(Ordering::SeqCst), 0);
    // the environment turns back on what the file turned off
    let path = file("re-enabled", "[services.Expensive]\nenabled = false\n");
    let host = build(&["Expensive"], Some(path), &[("HOST_EXPENSIVE_ENABLED", "true")]).unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), [name("Expensive")]);
}

// ---- errors ----

#[test]
fn an_invalid_duration_in_the_environment_names_the_variable_service_value_and_grammar() {
    assert_eq!(
        error(build(&["tick"], None, &[("HOST_TICK_EVERY", "5M")])),
        format!(
            "invalid configuration: HOST_TICK_EVERY: service `{}`: invalid duration `\"5M\"`: `\"5M\"`: `M` is the unit \
             for months, easily mistaken for `m` (minutes); did you mean `\"5m\"` or `\"5min\"`? For a calendar month \
             use `cron = \"0 0 1 * *\"`; for a fixed length, write days (`\"30d\"`); expected a duration such as \
             \"30s\", \"5m\" or \"1h 30m\", from 1ms to 365d",
            name("tick")
        )
    );
}

#[test]
fn an_invalid_value_in_the_file_names_the_file_and_key() {
    let path = file("bad-cron", "[services.tick]\ncron = \"0 0 30 2 *\"\n");
    let shown = path.display().to_string();
    assert_eq!(
        error(build(&["tick"], Some(path), &[])),
        format!(
            "invalid configuration: {shown}: services.tick.cron: service `{}`: the cron expression `\"0 0 30 2 *\"` never \
             fires: no date matches its day-of-month, month and weekday fields together (like day 30 in February, or \
             day 31 in a 30-day month); fix the day or the month",
            name("tick")
        )
    );
    let path = file("bad-bool", "[services.tick]\nenabled = \"nope\"\n");
    let message = error(build(&["tick"], Some(path), &[]));
    assert!(
        message.ends_with(&format!(
            "services.tick.enabled: service `{}`: invalid value `nope`; expected `true` or `false` (also `1`/`0`, \
             `yes`/`no`, `on`/`off`)",
            name("tick")
        )),
        "{message}"
    );
    let path = file("bad-type", "[services.tick]\norder = \"first\"\n");
    let message = error(build(&["tick"], Some(path), &[]));
    assert!(
        message
            .ends_with("invalid value `first`; expected a whole number (negative starts earlier), like `10` or `-5`"),
        "{message}"
    );
    let path = file("bad-toml", "[services.tick\n");
    let message = error(build(&["tick"], Some(path), &[]));
    assert!(message.contains("not valid TOML"), "{message}");
}

#[test]
fn an_unknown_service_in_the_file_is_an_error_with_a_did_you_mean() {
    let path = file("unknown-service", "[services.mailr]\norder = 1\n");
    let shown = path.display().to_string();
    let message = error(build(&["mailer"], Some(path), &[]));
    assert!(
        message.starts_with(&format!(
            "invalid configuration: {shown}: services.mailr: no service is named `mailr`; did you mean `mailer`? known \
             services: "
        )),
        "{message}"
    );
    assert!(message.contains(&format!("`{}`", name("mailer"))), "{message}");
}

#[test]
fn an_unknown_option_or_key_in_the_file_is_an_error_with_a_did_you_mean() {
    let path = file("unknown-option", "[services.tick]\nevry = \"5s\"\n");
    let message = error(build(&["tick"], Some(path), &[]));
    assert!(
        message.ends_with(&format!(
            "services.tick.evry: service `{}`: unknown option `evry`; did you mean `every`? valid: enabled, every, \
             fixed_delay, cron, tz, initial_delay, jitter, missed_ticks, timeout, max_failures, order, on_failure, restart",
            name("tick")
        )),
        "{message}"
    );
    let path = file("unknown-key", "shutdown_timout = \"5s\"\n");
    let message = error(build(&["tick"], Some(path), &[]));
    assert!(
        message.ends_with("shutdown_timout: unknown key `shutdown_timout`; did you mean `shutdown_timeout`? valid: shutdown_timeout, services"),
        "{message}"
    );
}

#[test]
fn an_unknown_service_in_the_environment_is_an_error_with_a_did_you_mean() {
    let message = error(build(&["mailer"], None, &[("HOST_MAILR_ORDER", "1")]));
    assert!(
        message.starts_with(
            "invalid configuration: HOST_MAILR_ORDER: no service is named `MAILR` (variables are \
             `HOST_<SERVICE>_<OPTION>`, the name upper-cased with every other character than a letter or digit as `_`); \
             did you mean `HOST_MAILER_ORDER`?"
        ),
        "{message}"
    );
}

#[test]
fn options_that_do_not_fit_the_service_are_errors() {
    let message = error(build(&["mailer"], None, &[("HOST_MAILER_EVERY", "5s")]));
    assert!(
        message.ends_with(&format!(
            "HOST_MAILER_EVERY: service `{}`: this is a schedule option, and the service is not periodic (it is a hosted \
             service); remove it",
            name("mailer")
        )),
        "{message}"
    );
    let message = error(build(&["tick"], None, &[("HOST_TICK_TZ", "Europe/Berlin")]));
    assert!(message.contains("applies only to a cron schedule"), "{message}");
    let message = error(build(&["mailer"], None, &[("HOST_MAILER_RESTART_MAX", "5s")]));
    assert!(
        message.contains("restart parameters apply only to the `restart` policy"),
        "{message}"
    );
    let message = error(build(&["tick"], None, &[("HOST_TICK_JITTER", "20s")]));
    assert!(
        message.ends_with(&format!(
            "HOST_TICK_JITTER: service `{}`: the schedule is invalid with these settings: jitter (20s) must be smaller \
             than the period (10s)",
            name("tick")
        )),
        "{message}"
    );
    let message = error(build(
        &["tick"],
        None,
        &[("HOST_TICK_TZ", "Europe/Berln"), ("HOST_TICK_CRON", "0 * * * *")],
    ));
    assert!(message.contains("unknown time zone `Europe/Berln`"), "{message}");
}

#[test]
fn a_named_file_that_is_missing_is_an_error_the_default_one_is_not() {
    let message = error(build(&["tick"], Some(PathBuf::from("/nonexistent/host.toml")), &[]));
    assert!(
        message.starts_with("invalid configuration: /nonexistent/host.toml: cannot read the configuration file:"),
        "{message}"
    );
    let message = error(build(&["tick"], None, &[("HOST_CONFIG", "/nonexistent/other.toml")]));
    assert!(
        message.starts_with("invalid configuration: /nonexistent/other.toml:"),
        "{message}"
    );
    // no `host.toml` in the test's working directory: fine
    let _host = build(&["tick"], None, &[]).unwrap();
}

#[test]
fn a_file_named_by_host_config_is_read() {
    let path = file("named-by-env", "[services.tick]\nevery = \"33s\"\n");
    let host = build(&["tick"], None, &[("HOST_CONFIG", path.to_str().unwrap())]).unwrap();
    assert!(schedule(&host, "tick").starts_with("Schedule { trigger: Every(33s)"));
}

#[test]
fn services_built_by_hand_are_configured_too() {
    let host = Host::builder()
        .discover(false)
        .service(Service::periodic(
            "heartbeat",
            host::Schedule::every(Duration::from_secs(1)),
            |_, _| async {},
        ))
        .config_env([("HOST_HEARTBEAT_EVERY", "2s")])
        .build()
        .unwrap();
    assert_eq!(
        host.services().next().unwrap().schedule().unwrap().to_string(),
        "every 2s"
    );
}

/// What configuration adds to `build()`: 10 000 services, 1 000 of them overridden in a file and
/// 1 000 by variables. A measurement, not a check: `cargo test --release -p tests --test config
/// -- --ignored --nocapture build_cost` (figures in BENCHMARKS.md).
#[test]
#[ignore = "a measurement; run it in release"]
fn build_cost_with_configuration() {
    let services = || {
        (0..10_000).map(|i| {
            Service::periodic(
                format!("job-{i}"),
                host::Schedule::every(Duration::from_secs(60)),
                |_, _| async {},
            )
        })
    };
    let mut text = String::new();
    for i in 0..1_000 {
        text.push_str(&format!("[services.\"job-{i}\"]\nevery = \"5s\"\ntimeout = \"2s\"\n"));
    }
    let path = file("build-cost", &text);
    let env: Vec<(String, String)> = (1_000..2_000)
        .map(|i| (format!("HOST_JOB_{i}_JITTER"), "1s".to_owned()))
        .collect();
    for round in 0..3 {
        let t = std::time::Instant::now();
        let host = Host::builder()
            .discover(false)
            .services(services())
            .config(false)
            .build()
            .unwrap();
        let without = t.elapsed();
        drop(host);
        let t = std::time::Instant::now();
        let host = Host::builder()
            .discover(false)
            .services(services())
            .config_file(&path)
            .config_env(env.clone())
            .build()
            .unwrap();
        let with = t.elapsed();
        assert_eq!(
            host.services()
                .filter(|s| s.schedule().unwrap().to_string().contains("jitter 1s"))
                .count(),
            1_000
        );
        println!(
            "round {round}: build() of 10 000 services: {without:?} without configuration, {with:?} with 1 000 file + 1 000 env overrides"
        );
    }
}

#[host::periodic(cron = "0 0 3 * * *", tz = "Asia/Tokyo")]
async fn nightly() {}

#[test]
fn a_configured_cron_keeps_the_attributes_time_zone_unless_tz_is_set_too() {
    let host = build(&["nightly"], None, &[("HOST_NIGHTLY_CRON", "0 30 4 * * *")]).unwrap();
    assert_eq!(
        service(&host, "nightly").schedule().unwrap().to_string(),
        "cron `0 30 4 * * *` (Asia/Tokyo)"
    );
    let env = [("HOST_NIGHTLY_CRON", "0 30 4 * * *"), ("HOST_NIGHTLY_TZ", "UTC")];
    let host = build(&["nightly"], None, &env).unwrap();
    assert_eq!(
        service(&host, "nightly").schedule().unwrap().to_string(),
        "cron `0 30 4 * * *` (UTC)"
    );
    // `every` over a cron drops the zone with it
    let host = build(&["nightly"], None, &[("HOST_NIGHTLY_EVERY", "1h")]).unwrap();
    assert_eq!(service(&host, "nightly").schedule().unwrap().to_string(), "every 1h");
}

static OPT_IN_BUILT: AtomicU32 = AtomicU32::new(0);

/// Switched off by its attribute: configuration switches it on.
#[host::hosted_service(enabled = false, new = OptIn::new)]
struct OptIn;

impl OptIn {
    fn new() -> Self {
        OPT_IN_BUILT.fetch_add(1, Ordering::SeqCst);
        OptIn
    }
}

impl HostedService for OptIn {}

#[host::periodic(every = "1m", enabled = false)]
async fn opt_in_job() {}

#[test]
fn a_service_switched_off_by_its_attribute_runs_only_when_configuration_switches_it_on() {
    let host = build(&["OptIn", "opt_in_job", "mailer"], None, &[]).unwrap();
    assert_eq!(host.service_names().collect::<Vec<_>>(), [name("mailer")]);
    assert_eq!(OPT_IN_BUILT.load(Ordering::SeqCst), 0, "never constructed");
    let path = file("opt-in", "[services.opt_in_job]\nenabled = true\n");
    let env = [("HOST_OPTIN_ENABLED", "true")];
    let host = build(&["OptIn", "opt_in_job", "mailer"], Some(path), &env).unwrap();
    assert_eq!(
        host.service_names().collect::<Vec<_>>(),
        // start order: `mailer` has `order = 1`
        [name("OptIn"), name("opt_in_job"), name("mailer")]
    );
    assert_eq!(OPT_IN_BUILT.load(Ordering::SeqCst), 1);
}
