#[host::hosted_service(on_failure = restart(intial = "1s"))]
async fn mailer() {}

fn main() {}
