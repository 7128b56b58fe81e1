#[host::hosted_service(new = make_config)]
struct Mailer;

struct Config;

fn make_config() -> Config {
    Config
}

impl host::HostedService for Mailer {}

fn main() {}
