#[host::periodic(every = "30s", jitter = "30s")]
async fn refresh() {}

fn main() {}
