#[host::queue_worker(capacity = 0, concurrency = "4", backoff = "1", dead_letter = "park", name = "")]
async fn send(_item: String) {}

fn main() {}
