#[host::periodic(every = "1h", enabled = "false")]
async fn opt_in() {}

fn main() {}
