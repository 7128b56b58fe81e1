#[host::hosted_service]
async fn mailer(tick: host::Tick) {
    let _ = tick;
}

fn main() {}
