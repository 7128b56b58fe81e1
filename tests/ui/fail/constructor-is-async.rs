#[host::hosted_service(new = Mailer::connect)]
struct Mailer;

impl Mailer {
    async fn connect() -> Self {
        Mailer
    }
}

impl host::HostedService for Mailer {}

fn main() {}
