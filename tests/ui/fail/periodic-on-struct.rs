#[host::periodic(every = "30s")]
struct Refresh;

fn main() {}
