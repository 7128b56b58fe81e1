#[host::queue_worker]
async fn send(_item: String) -> u32 {
    1
}

fn main() {}
