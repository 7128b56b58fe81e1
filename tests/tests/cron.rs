//! Cron schedules: next runs across daylight-saving changes in two zones, and the live loop under
//! tokio's paused clock with a pinned wall-clock origin.

mod common;

use common::{builder, secs};
use host::jiff::Timestamp;
use host::{Context, Schedule, ScheduleError, Service, Tick};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn upcoming(expr: &str, zone: &str, after: &str, n: usize) -> Vec<String> {
    Schedule::cron(expr)
        .tz(zone)
        .upcoming(ts(after), n)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn spring_forward_runs_a_skipped_time_once_right_after_the_gap_in_berlin() {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    assert_eq!(
        upcoming("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
        [
            "2026-03-28T02:30:00+01:00[Europe/Berlin]",
            "2026-03-29T03:00:00+02:00[Europe/Berlin]",
            "2026-03-30T02:30:00+02:00[Europe/Berlin]",
        ]
    );
}

#[test]
fn spring_forward_runs_a_skipped_time_once_right_after_the_gap_in_new_york() {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    assert_eq!(
        upcoming("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3),
        [
            "2026-03-08T03:00:00-04:00[America/New_York]",
            "2026-03-09T02:30:00-04:00[America/New_York]",
            "2026-03-10T02:30:00-04:00[America/New_York]",
        ]
    );
}

#[test]
fn fall_back_runs_a_repeated_time_once_in_new_york() {
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice, the job runs once.
    assert_eq!(
        upcoming("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 3),
        [
            "2026-11-01T01:30:00-04:00[America/New_York]",
            "2026-11-02T01:30:00-05:00[America/New_York]",
            "2026-11-03T01:30:00-05:00[America/New_York]",
        ]
    );
}

#[test]
fn fall_back_runs_a_repeated_time_once_in_berlin() {
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice, the job runs once.
    assert_eq!(
        upcoming("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 3),
        [
            "2026-10-25T02:30:00+02:00[Europe/Berlin]",
            "2026-10-26T02:30:00+01:00[Europe/Berlin]",
            "2026-10-27T02:30:00+01:00[Europe/Berlin]",
        ]
    );
}

#[test]
fn interval_jobs_follow_elapsed_time_through_a_repeated_hour() {
    // Every 30 minutes through the New York fall-back: both passes of 01:00-02:00 run.
    assert_eq!(
        upcoming("*/30 * * * *", "America/New_York", "2026-11-01T04:45:00Z", 5),
        [
            "2026-11-01T01:00:00-04:00[America/New_York]",
            "2026-11-01T01:30:00-04:00[America/New_York]",
            "2026-11-01T01:00:00-05:00[America/New_York]",
            "2026-11-01T01:30:00-05:00[America/New_York]",
            "2026-11-01T02:00:00-05:00[America/New_York]",
        ]
    );
}

#[test]
fn utc_is_the_default_zone_and_seconds_are_optional() {
    let s = Schedule::cron("*/20 * * * * *");
    let runs: Vec<_> = s
        .upcoming(ts("2026-01-01T00:00:05Z"), 3)
        .unwrap()
        .iter()
        .map(|z| z.timestamp())
        .collect();
    assert_eq!(
        runs,
        [
            ts("2026-01-01T00:00:20Z"),
            ts("2026-01-01T00:00:40Z"),
            ts("2026-01-01T00:01:00Z")
        ]
    );
}

#[test]
fn invalid_expressions_and_zones_are_reported_at_build_with_the_service_name() {
    let job = |_: Context, _: Tick| async {};
    let bad = |schedule: Schedule| {
        builder()
            .service(Service::periodic("nightly", schedule, job))
            .build()
            .err()
            .unwrap()
    };
    let err = bad(Schedule::cron("61 * * * *"));
    assert!(
        err.to_string()
            .starts_with("service `nightly` has an invalid schedule: invalid cron expression `61 * * * *`"),
        "{err}"
    );
    let err = bad(Schedule::cron("0 3 * * *").tz("Mars/Olympus_Mons"));
    assert_eq!(
        err.to_string(),
        "service `nightly` has an invalid schedule: unknown time zone `Mars/Olympus_Mons`; use an IANA name such as `Europe/Berlin` or `UTC`"
    );
    assert_eq!(
        Schedule::every(secs(1)).tz("UTC").validate(),
        Err(ScheduleError::TimeZoneWithoutCron)
    );
}

/// Issue 10: a cron expression that can never fire is rejected at `build()`, naming the service.
#[test]
fn a_cron_expression_that_never_fires_is_rejected_at_build() {
    let job = |_: Context, _: Tick| async {};
    let err = builder()
        .service(Service::periodic("leap", Schedule::cron("0 0 30 2 *"), job))
        .build()
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "service `leap` has an invalid schedule: the cron expression `0 0 30 2 *` never fires: no date matches \
         its day-of-month, month and weekday fields together (like day 30 in February, or day 31 in a 30-day \
         month); fix the day or the month"
    );
    assert_eq!(err.exit_code(), std::process::ExitCode::from(2));
    assert_eq!(
        Schedule::cron("0 0 31 4,6 *").validate(),
        Err(ScheduleError::CronNeverFires("0 0 31 4,6 *".to_owned()))
    );
    // 29 February fires every leap year
    assert_eq!(Schedule::cron("0 0 29 2 *").validate(), Ok(()));
}

/// Issue 10: jitter is checked against the shortest interval between two cron runs, as it is
/// against the period of `every`.
#[test]
fn cron_jitter_must_be_below_the_shortest_interval_between_runs() {
    // every 10 s
    assert_eq!(
        Schedule::cron("*/10 * * * * *").jitter(secs(20)).validate(),
        Err(ScheduleError::JitterAboveCronInterval {
            jitter: secs(20),
            interval: secs(10),
            expr: "*/10 * * * * *".to_owned(),
        })
    );
    // equal to the interval is too long as well
    assert!(Schedule::cron("*/10 * * * * *").jitter(secs(10)).validate().is_err());
    assert_eq!(Schedule::cron("*/10 * * * * *").jitter(secs(9)).validate(), Ok(()));
    // 23:00 and 01:00: two hours apart across midnight, although 22 hours apart within the day
    let err = Schedule::cron("0 1,23 * * *")
        .jitter(secs(3 * 3600))
        .validate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "jitter (3h) must be smaller than the shortest interval between two runs of the cron expression \
         `0 1,23 * * *` (2h)"
    );
    assert_eq!(Schedule::cron("0 1,23 * * *").jitter(secs(3600)).validate(), Ok(()));
}

/// Issue 10: a 7th (year) field is rejected, as the macros reject it.
#[test]
fn a_year_field_is_rejected() {
    let err = Schedule::cron("0 0 0 1 1 * 2030").validate().unwrap_err();
    assert!(
        err.to_string().contains("a 7th field (a year) is not supported"),
        "{err}"
    );
}

/// Runs a daily cron job on a test host whose clock is pinned to `origin`, for `days` (virtual),
/// and returns the run times as wall-clock timestamps.
async fn run_cron(origin: &str, expr: &str, zone: &str, days: u64) -> Vec<Timestamp> {
    let service = Service::periodic("nightly", Schedule::cron(expr).tz(zone), |_: Context, _: Tick| async {});
    let mut host = host::testing::TestHost::start_at(builder().service(service), ts(origin))
        .await
        .unwrap();
    host.advance(secs(days * 86_400)).await;
    let runs = host.runs("nightly").iter().map(|r| host.wall(r.started)).collect();
    host.stop().await.unwrap();
    runs
}

#[tokio::test(start_paused = true)]
async fn the_loop_fires_at_the_cron_instants_across_spring_forward() {
    let runs = run_cron("2026-03-28T12:00:00Z", "30 2 * * *", "Europe/Berlin", 3).await;
    assert_eq!(
        runs,
        [
            ts("2026-03-29T01:00:00Z"), // 03:00 CEST: the skipped 02:30, once
            ts("2026-03-30T00:30:00Z"), // 02:30 CEST
            ts("2026-03-31T00:30:00Z"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_loop_runs_a_fall_back_time_once() {
    let runs = run_cron("2026-10-31T12:00:00Z", "30 1 * * *", "America/New_York", 2).await;
    assert_eq!(runs, [ts("2026-11-01T05:30:00Z"), ts("2026-11-02T06:30:00Z")]);
}
