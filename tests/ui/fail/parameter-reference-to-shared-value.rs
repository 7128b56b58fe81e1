struct Pool;

#[host::periodic(every = "30s")]
async fn refresh(pool: &Pool) {
    let _ = pool;
}

fn main() {}
