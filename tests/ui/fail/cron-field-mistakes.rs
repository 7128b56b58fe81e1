// Each function has one mistake; every one is reported, on its own literal.

// a range that goes backwards (meant: 22:00 to 06:00)
#[host::periodic(cron = "0 22-6 * * *")]
async fn night() {}

// `?` in the month field
#[host::periodic(cron = "0 0 1 ? *")]
async fn monthly() {}

// a step of 0
#[host::periodic(cron = "*/0 * * * *")]
async fn never_advances() {}

// 4 fields
#[host::periodic(cron = "0 * * *")]
async fn too_few() {}

// not a nickname; `every` is the fixed-interval schedule
#[host::periodic(cron = "@every 5m")]
async fn go_style() {}

// a misspelt month
#[host::periodic(cron = "0 0 1 JNA *")]
async fn january() {}

// day 31 in months that have 30 days
#[host::periodic(cron = "0 0 31 4,6,9,11 *")]
async fn never() {}

fn main() {}
