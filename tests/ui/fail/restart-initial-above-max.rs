#[host::hosted_service(on_failure = restart(initial = "1m", max = "30s"))]
async fn mailer() {}

fn main() {}
