#[host::hosted_service(new = Mailer::new)]
async fn mailer() {}

fn main() {}
