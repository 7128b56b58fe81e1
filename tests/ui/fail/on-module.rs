#[host::hosted_service]
mod mailer {}

fn main() {}
