#[host::periodic(every = "30s")]
async unsafe fn refresh() {}

fn main() {}
