#[host::periodic(every = "00:00:30")]
async fn refresh() {}

fn main() {}
