trait Worker {
    #[host::hosted_service]
    async fn work(ctx: host::Context);
}

fn main() {}
