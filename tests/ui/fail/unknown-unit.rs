#[host::periodic(every = "30 sekunden")]
async fn refresh() {}

fn main() {}
