#[host::periodic(every = "30s", cron = "0 */5 * * * *")]
async fn refresh() {}

fn main() {}
