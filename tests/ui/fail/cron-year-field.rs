#[host::periodic(cron = "0 0 0 1 1 * 2030")]
async fn new_year() {}

fn main() {}
