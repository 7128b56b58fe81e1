#[host::periodic(every = "PT30S")]
async fn refresh() {}

fn main() {}
