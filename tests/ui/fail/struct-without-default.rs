#[host::hosted_service]
struct Mailer {
    sent: u64,
}

impl host::HostedService for Mailer {}

fn main() {}
