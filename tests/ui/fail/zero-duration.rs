#[host::periodic(every = "0s")]
async fn refresh() {}

fn main() {}
