#[host::queue_worker(concurency = 4, workers = 2)]
async fn send(_item: String) {}

fn main() {}
