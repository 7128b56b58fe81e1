#[host::periodic(every = 30)]
async fn refresh() {}

fn main() {}
