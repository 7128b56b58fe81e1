// `singleton` is a periodic job's option: a hosted service runs on every replica.
#[host::hosted_service(singleton)]
async fn mailer(ctx: host::Context) {
    ctx.cancelled().await;
}

fn main() {}
