#[host::hosted_service]
#[host::periodic(every = "30s")]
async fn refresh() {}

fn main() {}
