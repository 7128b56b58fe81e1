#[host::periodic(every = "30S")]
async fn refresh() {}

fn main() {}
