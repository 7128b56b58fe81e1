//! The watchdog: a small OS thread, with a current-thread tokio runtime of its own, that watches
//! the shutdown signals and the shutdown deadline from outside the application's runtime, so that
//! blocked runtime workers cannot stall either (as systemd watches a service's stop timeout from
//! outside the service).
//!
//! - The first SIGINT/SIGTERM requests a graceful stop (even while a hook blocks every worker); if
//!   a failure or [`HostHandle::stop`](crate::HostHandle::stop) began the shutdown already, it is
//!   logged and changes nothing.
//! - With the hard exit on (a host that owns its process): a second signal exits at once with
//!   [`FORCED_EXIT_CODE`]; a process still not done at the shutdown timeout plus
//!   [`SHUTDOWN_GRACE`] after the stop request logs the services still running and exits with
//!   [`STUCK_EXIT_CODE`].
//!
//! The thread ends when the host's run ends with nothing left running; it is not joined.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::handle::HostHandle;
use crate::report::StopReason;

/// The exit code of a process that a second SIGINT/SIGTERM during graceful shutdown ended at once
/// (128 + SIGINT, what shells report for an interrupted program).
pub const FORCED_EXIT_CODE: i32 = 130;

/// The exit code of a process that had not ended at the shutdown timeout plus [`SHUTDOWN_GRACE`]
/// (the same code as [`Error::ShutdownTimeout`](crate::Error::ShutdownTimeout)).
pub const STUCK_EXIT_CODE: i32 = 3;

/// How long after the shutdown timeout the watchdog of a host that owns its process lets it live
/// before it exits with [`STUCK_EXIT_CODE`]: time for `run()` to return and `main` to end.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Aborted tasks, which may still be running if they block their thread.
type Stuck = Vec<(Arc<str>, AbortHandle)>;

/// The host's side of the watchdog (the stop requests reach it through the handle).
pub(crate) struct Watchdog {
    finished: mpsc::UnboundedSender<Stuck>,
}

impl Watchdog {
    /// The run has ended; `stuck` are the tasks it aborted (still running if they block). With
    /// none, the watchdog's thread ends.
    pub(crate) fn finished(&self, stuck: Stuck) {
        let _ = self.finished.send(stuck);
    }
}

/// What the watchdog does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) signals: bool,
    pub(crate) hard_exit: bool,
    pub(crate) timeout: Duration,
}

/// Starts the watchdog thread and connects it to `handle`. Returns once the signal handlers are
/// installed, so a signal during start-up is handled.
pub(crate) fn start(handle: &HostHandle, options: Options) -> Result<Watchdog, String> {
    let (stops, stop_rx) = mpsc::unbounded_channel();
    let (finished, finished_rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let watched = handle.clone();
    std::thread::Builder::new()
        .name("host-watchdog".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("cannot build the watchdog's runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let signals = match Signals::new(options.signals) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot listen for shutdown signals: {e}")));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                watch(watched, stop_rx, finished_rx, signals, options).await;
            });
        })
        .map_err(|e| format!("cannot start the watchdog thread: {e}"))?;
    ready_rx
        .recv()
        .map_err(|_| "the watchdog thread ended before it was ready".to_owned())??;
    handle.listen_for_stop(stops);
    Ok(Watchdog { finished })
}

async fn watch(
    handle: HostHandle,
    mut stops: mpsc::UnboundedReceiver<()>,
    mut finished: mpsc::UnboundedReceiver<Stuck>,
    mut signals: Signals,
    options: Options,
) {
    let mut received = 0u32;
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut stuck: Option<Stuck> = None;
    let far = tokio::time::Instant::now() + Duration::from_secs(60 * 60 * 24 * 365);
    loop {
        let armed = options.hard_exit && deadline.is_some();
        tokio::select! {
            name = signals.recv() => {
                received = received.saturating_add(1);
                if received >= 2 {
                    if options.hard_exit {
                        tracing::error!(signal = name, code = FORCED_EXIT_CODE, "second signal during shutdown; exiting immediately");
                        std::process::exit(FORCED_EXIT_CODE);
                    }
                    tracing::warn!(signal = name, "signal received again; the shutdown goes on (the hard exit is off)");
                } else if handle.is_stop_requested() {
                    tracing::info!(
                        signal = name,
                        reason = %handle.stop_reason(),
                        "signal received; the shutdown already under way goes on (send it again to exit at once)"
                    );
                } else {
                    tracing::info!(signal = name, "signal received; shutting down gracefully");
                    handle.request_stop(StopReason::Signal(name));
                }
            }
            Some(()) = stops.recv(), if deadline.is_none() => {
                let limit = options.timeout.checked_add(SHUTDOWN_GRACE);
                deadline = Some(limit.and_then(|l| tokio::time::Instant::now().checked_add(l)).unwrap_or(far));
            }
            // Once the run has ended with stuck tasks, only the deadline matters.
            tasks = finished.recv(), if stuck.is_none() => match tasks {
                Some(tasks) if !tasks.is_empty() && options.hard_exit => stuck = Some(tasks),
                _ => return,
            },
            _ = tokio::time::sleep_until(deadline.unwrap_or(far)), if armed => {
                let names = still_running(&handle, stuck.as_deref());
                if names.is_empty() && stuck.is_some() {
                    // Every aborted task has ended: nothing blocks the process any more.
                    return;
                }
                tracing::error!(
                    timeout = %humantime::format_duration(options.timeout),
                    grace = %humantime::format_duration(SHUTDOWN_GRACE),
                    still_running = %names.join(", "),
                    code = STUCK_EXIT_CODE,
                    "the process did not end within the shutdown timeout and its grace; exiting"
                );
                std::process::exit(STUCK_EXIT_CODE);
            }
        }
    }
}

/// The services keeping the process alive: the aborted tasks that have not ended, if the host's
/// run ended; otherwise the services whose code is being polled right now (blocking their
/// thread), or failing that every service that has not ended.
fn still_running(handle: &HostHandle, stuck: Option<&[(Arc<str>, AbortHandle)]>) -> Vec<String> {
    if let Some(stuck) = stuck {
        return stuck
            .iter()
            .filter(|(_, task)| !task.is_finished())
            .map(|(name, _)| name.to_string())
            .collect();
    }
    let services = handle.services();
    let busy: Vec<String> = services
        .iter()
        .filter(|s| s.status.is_busy())
        .map(|s| s.name.to_string())
        .collect();
    if !busy.is_empty() {
        return busy;
    }
    services
        .iter()
        .filter(|s| {
            !matches!(
                s.status.stage(),
                crate::status::Stage::Done | crate::status::Stage::Pending
            )
        })
        .map(|s| s.name.to_string())
        .collect()
}

/// SIGINT and SIGTERM on unix, Ctrl+C elsewhere (feature `signals`), on the watchdog's runtime.
struct Signals {
    #[cfg(all(unix, feature = "signals"))]
    unix: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
    #[cfg(all(not(unix), feature = "signals"))]
    on: bool,
}

impl Signals {
    fn new(on: bool) -> std::io::Result<Self> {
        #[cfg(all(unix, feature = "signals"))]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let unix = if on {
                Some((signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?))
            } else {
                None
            };
            Ok(Signals { unix })
        }
        #[cfg(all(not(unix), feature = "signals"))]
        {
            Ok(Signals { on })
        }
        #[cfg(not(feature = "signals"))]
        {
            let _ = on;
            Ok(Signals {})
        }
    }

    /// Completes with the signal's name when one arrives; never without signal handling.
    async fn recv(&mut self) -> &'static str {
        #[cfg(all(unix, feature = "signals"))]
        if let Some((int, term)) = &mut self.unix {
            return tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
        #[cfg(all(not(unix), feature = "signals"))]
        if self.on && tokio::signal::ctrl_c().await.is_ok() {
            return "Ctrl+C";
        }
        std::future::pending().await
    }
}
