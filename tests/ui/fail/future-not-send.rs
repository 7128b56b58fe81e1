use std::rc::Rc;

#[host::periodic(every = "30s")]
async fn refresh() {
    let shared = Rc::new(1);
    tokio::task::yield_now().await;
    let _ = shared;
}

fn main() {}
