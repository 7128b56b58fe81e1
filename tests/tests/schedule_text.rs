//! The schedule as text (`Display for Schedule`), as the status snapshot, `/status` and the
//! dashboard show it.

use std::time::Duration;

use host::{Context, Host, MissedTicks, Phase, Schedule, Service, Tick};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn every_schedule_family_and_option_reads_as_an_operator_writes_it() {
    assert_eq!(Schedule::every(secs(30)).to_string(), "every 30s");
    assert_eq!(Schedule::every(secs(90)).to_string(), "every 1m 30s");
    assert_eq!(Schedule::fixed_delay(secs(10)).to_string(), "fixed delay 10s");
    assert_eq!(
        Schedule::every(secs(300))
            .initial_delay(secs(5))
            .jitter(secs(20))
            .timeout(secs(60))
            .missed_ticks(MissedTicks::Burst)
            .to_string(),
        "every 5m, initial delay 5s, jitter 20s, timeout 1m, missed ticks: burst"
    );
    assert_eq!(
        Schedule::every(secs(1)).missed_ticks(MissedTicks::Delay).to_string(),
        "every 1s, missed ticks: delay"
    );
    assert_eq!(
        Schedule::cron("0 30 2 * * *").tz("Europe/Berlin").to_string(),
        "cron `0 30 2 * * *` (Europe/Berlin)"
    );
    assert_eq!(Schedule::cron("*/15 * * * *").to_string(), "cron `*/15 * * * *` (UTC)");
    assert!(
        Schedule::cron("not cron")
            .to_string()
            .starts_with("invalid cron schedule: invalid cron expression `not cron`")
    );
}

#[tokio::test(start_paused = true)]
async fn the_status_snapshot_carries_the_schedule_of_periodic_services_only() {
    let host = Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::periodic(
            "nightly",
            Schedule::cron("30 2 * * *").tz("Europe/Berlin"),
            |_: Context, _: Tick| async {},
        ))
        .service(Service::hosted("listener", Listener))
        .build()
        .unwrap();
    let handle = host.handle();
    let run = tokio::spawn(host.run());
    handle.wait_for(Phase::Started).await;
    let status = handle.status();
    let schedule = |name: &str| status.iter().find(|s| s.name == name).unwrap().schedule.clone();
    assert_eq!(
        schedule("nightly").as_deref(),
        Some("cron `30 2 * * *` (Europe/Berlin)")
    );
    assert_eq!(schedule("listener"), None);
    handle.stop();
    run.await.unwrap().unwrap();
}

struct Listener;

impl host::HostedService for Listener {}
