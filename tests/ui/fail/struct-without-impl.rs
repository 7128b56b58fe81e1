#[derive(Default)]
#[host::hosted_service]
struct Mailer;

fn main() {}
