#[host::periodic(cron = "61 * * * *")]
async fn refresh() {}

fn main() {}
