#[host::queue_worker]
async fn send() {}

fn main() {}
