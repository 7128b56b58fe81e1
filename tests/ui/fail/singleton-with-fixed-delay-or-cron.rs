// Singleton ticks are numbered on the database clock: only `every` has such ticks.
#[host::periodic(fixed_delay = "10s", singleton)]
async fn drain() {}

#[host::periodic(cron = "0 2 * * *", singleton)]
async fn nightly() {}

fn main() {}
