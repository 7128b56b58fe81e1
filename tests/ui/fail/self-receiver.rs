struct Cache;

impl Cache {
    #[host::periodic(every = "30s")]
    async fn refresh(&self) {}
}

fn main() {}
