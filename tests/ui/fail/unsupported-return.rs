#[host::periodic(every = "30s")]
async fn refresh() -> Option<u32> {
    None
}

fn main() {}
