#[host::periodic(every = "1h", catch_up = "once", lease = "1m")]
async fn invoices() {}

fn main() {}
