#[host::periodic(every = "30s", initial_delay = "0s")]
async fn refresh() {}

fn main() {}
