#[host::periodic(every = "30s", max_failures = 0)]
async fn refresh() {}

fn main() {}
