//! Shutdown signals: SIGINT and SIGTERM on unix, Ctrl+C elsewhere (feature `signals`).

/// Listens for the signals that stop the host; created before the first service starts, so a
/// Ctrl+C during start-up is handled gracefully too.
pub(crate) struct Signals {
    #[cfg(all(unix, feature = "signals"))]
    int: tokio::signal::unix::Signal,
    #[cfg(all(unix, feature = "signals"))]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn new() -> std::io::Result<Self> {
        #[cfg(all(unix, feature = "signals"))]
        {
            use tokio::signal::unix::{SignalKind, signal};
            // tokio panics (instead of failing) on a runtime built without its IO driver.
            let listen = || -> std::io::Result<Self> {
                Ok(Signals {
                    int: signal(SignalKind::interrupt())?,
                    term: signal(SignalKind::terminate())?,
                })
            };
            std::panic::catch_unwind(listen).unwrap_or_else(|_| {
                Err(std::io::Error::other(
                    "the tokio runtime has no IO driver: build it with `enable_all()` (or `enable_io()`), \
                     or use `catch_signals(false)`",
                ))
            })
        }
        #[cfg(not(all(unix, feature = "signals")))]
        Ok(Signals {})
    }

    /// Completes with the signal's name when one arrives.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(all(unix, feature = "signals"))]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(all(not(unix), feature = "signals"))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl+C",
                Err(_) => std::future::pending().await,
            }
        }
        #[cfg(not(feature = "signals"))]
        {
            std::future::pending().await
        }
    }
}
