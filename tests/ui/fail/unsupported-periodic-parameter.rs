#[host::periodic(every = "30s")]
async fn refresh(tick: host::Tick, cache: std::collections::HashMap<String, String>) {
    let _ = (tick, cache);
}

fn main() {}
