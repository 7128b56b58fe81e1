// issue 14: singleton options; the schedule they build (checked at run time in tests/coordination.rs).
#[host::periodic(every = "1h", singleton, catch_up = "once", lease = "1m")]
async fn invoices(tick: host::Tick) {
    let _fence: Option<u64> = tick.fence();
}

#[host::periodic(every = "10s", singleton)]
async fn sweep() {}

fn main() {}
