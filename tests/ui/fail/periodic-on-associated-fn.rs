struct Cache;

impl Cache {
    #[host::periodic(every = "30s")]
    async fn refresh() -> Self {
        Self::load()
    }

    fn load() -> Self {
        Cache
    }
}

fn main() {}
