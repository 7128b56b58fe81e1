#[host::periodic(every = "30s")]
async fn refresh<'a>(ctx: &'a host::Context) {
    let _ = ctx;
}

fn main() {}
