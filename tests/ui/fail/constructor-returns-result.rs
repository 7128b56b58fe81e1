#[host::hosted_service(new = Mailer::connect)]
struct Mailer;

impl Mailer {
    fn connect() -> Result<Self, std::io::Error> {
        Ok(Mailer)
    }
}

impl host::HostedService for Mailer {}

fn main() {}
