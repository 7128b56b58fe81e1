#[host::periodic(every = "30s")]
async fn refresh<const N: usize>() {}

fn main() {}
