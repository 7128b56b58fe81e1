struct Email;

#[host::queue_worker]
async fn send(_item: Email) {}

fn main() {}
