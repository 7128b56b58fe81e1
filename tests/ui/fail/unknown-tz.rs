#[host::periodic(cron = "30 2 * * *", tz = "Europe/Berln")]
async fn nightly() {}

fn main() {}
