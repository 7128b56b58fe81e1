#[host::hosted_service]
async fn mailer(relay: String) {
    let _ = relay;
}

fn main() {}
