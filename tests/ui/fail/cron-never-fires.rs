// 30 February
#[host::periodic(cron = "0 0 30 2 *")]
async fn leap_report() {}

fn main() {}
