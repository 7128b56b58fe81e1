#[host::periodic(fixed_delay = "10s", missed_ticks = "burst")]
async fn drain() {}

fn main() {}
