//! A library crate that declares a service, as a real application splits its code.

/// The library's jobs.
pub mod jobs {
    /// Cleans up every second.
    #[host::periodic(every = "1s")]
    pub async fn cleanup() {
        tracing::info!("cleaned up");
    }
}
