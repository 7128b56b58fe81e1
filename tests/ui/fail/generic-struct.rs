#[derive(Default)]
#[host::hosted_service]
struct Mailer<T> {
    relay: T,
}

fn main() {}
