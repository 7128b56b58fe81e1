#[host::hosted_service(new = Mailer::with_host)]
struct Mailer;

impl Mailer {
    fn with_host(_host: &str) -> Self {
        Mailer
    }
}

impl host::HostedService for Mailer {}

fn main() {}
