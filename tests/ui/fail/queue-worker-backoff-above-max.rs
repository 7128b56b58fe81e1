#[host::queue_worker(backoff = "1m", max_backoff = "10s")]
async fn send(_item: String) {}

#[host::queue_worker(attempts = 1, backoff = "1s")]
async fn once(_item: String) {}

fn main() {}
