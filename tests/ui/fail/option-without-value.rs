#[host::periodic(every)]
async fn refresh() {}

fn main() {}
