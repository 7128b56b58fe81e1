#[host::queue_worker]
fn not_async(_item: String) {}

#[host::queue_worker]
async fn generic<T>(_item: T) {}

struct Mailer;

impl Mailer {
    #[host::queue_worker]
    async fn method(&self, _item: String) {}
}

#[host::queue_worker(capacity = 10)]
struct NotAFunction;

#[host::queue_worker(capacity)]
async fn without_value(_item: String) {}

fn main() {}
