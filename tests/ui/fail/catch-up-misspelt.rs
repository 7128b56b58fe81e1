#[host::periodic(every = "1h", singleton, catch_up = "onse")]
async fn invoices() {}

fn main() {}
