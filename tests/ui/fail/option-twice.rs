#[host::periodic(every = "30s", every = "1m")]
async fn refresh() {}

fn main() {}
