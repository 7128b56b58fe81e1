// Singleton ticks are scheduled times on the database clock: `fixed_delay` has none.
#[host::periodic(fixed_delay = "10s", singleton)]
async fn drain() {}

fn main() {}
