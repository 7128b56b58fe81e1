#[host::hosted_service]
async fn mailer<T: Default>() {
    let _ = T::default();
}

fn main() {}
