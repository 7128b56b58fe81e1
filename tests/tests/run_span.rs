//! Each periodic run is a tracing span `run{run=N scheduled=… lateness=…}` inside the service's
//! span `service{name=…}` (so an OpenTelemetry layer shows runs as traces).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use host::{Context, Host, MissedTicks, Schedule, Service, Tick};

/// Collects the formatted log.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn every_run_is_a_span_with_its_number_scheduled_time_and_lateness_inside_the_service_span() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test's runtime is current-thread: every task runs on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    // every 10 s, burst: run 1 takes 12 s, so run 2 (due at 10) starts 2 s late.
    let job = |ctx: Context, tick: Tick| async move {
        tracing::info!("working");
        if tick.run() == 1 {
            tokio::time::sleep(Duration::from_secs(12)).await;
        }
        if tick.run() == 2 {
            ctx.host().stop();
        }
    };
    Host::builder()
        .discover(false)
        .catch_signals(false)
        .service(Service::periodic(
            "tick",
            Schedule::every(Duration::from_secs(10)).missed_ticks(MissedTicks::Burst),
            job,
        ))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let working: Vec<&str> = text.lines().filter(|l| l.ends_with("working")).collect();
    assert_eq!(working.len(), 2, "{text}");
    for (line, run, lateness) in [(working[0], 1, "0ns"), (working[1], 2, "2s")] {
        let prefix = format!(" INFO service{{name=tick}}:run{{run={run} scheduled=");
        assert!(line.starts_with(&prefix), "{line}");
        assert!(line.contains(&format!(" lateness={lateness}}}: working")), "{line}");
        // The scheduled time is an RFC 3339 wall-clock timestamp.
        let scheduled = line[prefix.len()..].split(' ').next().unwrap();
        humantime::parse_rfc3339(scheduled).unwrap_or_else(|e| panic!("{scheduled}: {e}"));
    }
}
