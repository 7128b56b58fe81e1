#[host::periodic(every = "30s")]
fn refresh() {}

fn main() {}
