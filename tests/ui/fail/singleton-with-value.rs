#[host::periodic(every = "1m", singleton = true)]
async fn invoices() {}

fn main() {}
