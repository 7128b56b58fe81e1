#[host::periodic(name = "refresh")]
async fn refresh() {}

fn main() {}
