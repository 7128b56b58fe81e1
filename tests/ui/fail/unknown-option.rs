#[host::periodic(evry = "30s")]
async fn refresh() {}

fn main() {}
