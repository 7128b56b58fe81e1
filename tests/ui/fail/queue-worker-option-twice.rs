#[host::queue_worker(capacity = 10, capacity = 20)]
async fn send(_item: String) {}

fn main() {}
