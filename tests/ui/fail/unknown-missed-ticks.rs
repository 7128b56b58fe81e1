#[host::periodic(every = "30s", missed_ticks = "burts")]
async fn refresh() {}

fn main() {}
