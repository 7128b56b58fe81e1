// every 10 seconds
#[host::periodic(cron = "*/10 * * * * *", jitter = "20s")]
async fn refresh() {}

fn main() {}
