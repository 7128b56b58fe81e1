trait Refresh {
    #[host::periodic(every = "30s")]
    async fn refresh();
}

fn main() {}
