#[host::hosted_service(name = "")]
async fn mailer() {}

fn main() {}
