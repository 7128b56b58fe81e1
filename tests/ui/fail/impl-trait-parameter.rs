#[host::hosted_service]
async fn mailer(ctx: impl Send) {
    let _ = ctx;
}

fn main() {}
