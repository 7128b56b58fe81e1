#[host::periodic("30s")]
async fn refresh() {}

#[host::periodic("0 9 * * MON-FRI")]
async fn report() {}

#[host::hosted_service("mailer")]
async fn mailer() {}

#[host::hosted_service(on_failure = restart("1s"))]
async fn sender() {}

fn main() {}
