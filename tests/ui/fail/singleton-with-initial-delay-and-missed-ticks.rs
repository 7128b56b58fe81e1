#[host::periodic(every = "1m", singleton, initial_delay = "10s", missed_ticks = "burst", lease = "10ms")]
async fn invoices() {}

fn main() {}
