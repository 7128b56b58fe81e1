// Known limit: an associated function that does not name `Self` looks like a free function to the
// macro, which cannot see the `impl` around it; rustc reports that the function is not in scope.
struct Cache;

impl Cache {
    #[host::periodic(every = "30s")]
    async fn refresh() {}
}

fn main() {}
