#[host::periodic(every = "500us")]
async fn refresh() {}

fn main() {}
