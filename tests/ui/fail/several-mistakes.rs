// Independent mistakes are reported together, each on its own token.
#[host::periodic(every = "30", timeout = 5, on_failure = "retry")]
fn refresh<T>() {}

fn main() {}
