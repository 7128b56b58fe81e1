#[host::periodic(every = "30s", crate = "my_host")]
async fn refresh() {}

fn main() {}
