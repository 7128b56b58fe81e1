#[host::hosted_service(restart(initial = "1s", max = "30s"))]
async fn mailer() {}

fn main() {}
