// Singleton options.
#[host::periodic(every = "1h", singleton, catch_up = "once", lease = "1m")]
async fn invoices(tick: host::Tick) {
    let _fence: Option<u64> = tick.fence();
    let _scheduled_ms: Option<i64> = tick.slot();
}

#[host::periodic(every = "10s", singleton)]
async fn sweep() {}

#[host::periodic(cron = "0 2 * * *", tz = "Europe/Berlin", singleton, jitter = "1m")]
async fn nightly() {}

fn main() {}
