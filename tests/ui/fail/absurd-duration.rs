#[host::periodic(every = "400d")]
async fn refresh() {}

fn main() {}
