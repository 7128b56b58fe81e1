#[derive(Default)]
struct Mailer;

#[host::hosted_service]
impl host::HostedService for Mailer {}

fn main() {}
