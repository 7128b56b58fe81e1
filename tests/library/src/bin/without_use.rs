//! A binary that never refers to `my_lib`: the linker drops its services, and the host says how
//! to fix it instead of idling with none.

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().with_ansi(false).init();
    host::run().await
}
