//! The fix: the binary refers to the library once, so its services are linked in.

use my_lib as _; // links my_lib's services in

#[tokio::main]
async fn main() -> Result<(), host::Error> {
    tracing_subscriber::fmt().with_ansi(false).init();
    host::run().await
}
