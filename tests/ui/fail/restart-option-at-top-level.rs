#[host::hosted_service(initial = "1s")]
async fn mailer() {}

fn main() {}
