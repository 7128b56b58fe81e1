#[host::periodic(every = "5M")]
async fn refresh() {}

fn main() {}
