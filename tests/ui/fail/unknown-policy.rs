#[host::hosted_service(on_failure = "retry")]
async fn mailer() {}

fn main() {}
