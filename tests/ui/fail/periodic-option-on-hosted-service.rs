#[host::hosted_service(every = "30s")]
async fn mailer() {}

fn main() {}
