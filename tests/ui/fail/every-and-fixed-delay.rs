#[host::periodic(every = "30s", fixed_delay = "10s")]
async fn refresh() {}

fn main() {}
