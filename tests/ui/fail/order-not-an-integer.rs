#[host::hosted_service(order = "first")]
async fn mailer() {}

fn main() {}
