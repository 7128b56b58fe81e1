#[host::periodic(every = "1month")]
async fn invoice() {}

fn main() {}
