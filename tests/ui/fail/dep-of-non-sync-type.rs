use std::rc::Rc;

#[host::hosted_service]
async fn mailer(ctx: host::Context, relay: host::Dep<Rc<String>>) {
    let _ = relay;
    ctx.cancelled().await;
}

fn main() {}
