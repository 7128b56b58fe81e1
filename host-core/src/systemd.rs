//! systemd integration (feature `systemd`): readiness, status lines, stopping, and the watchdog,
//! through [sd_notify(3)](https://www.freedesktop.org/software/systemd/man/sd_notify.html).
//!
//! With the feature on, [`Host::run`](crate::Host::run) notifies the service manager by itself
//! whenever `NOTIFY_SOCKET` is set (it is a no-op otherwise, so the same binary runs anywhere):
//!
//! - `STATUS=starting N services` when start-up begins;
//! - `READY=1` and `STATUS=running N services` once every service has started, then the status
//!   line again whenever a service has failed or is restarting (`running 6 services; failed:
//!   import; restarting: consumer`, checked every 2 s);
//! - `STOPPING=1` and `STATUS=stopping` at the first instant of shutdown;
//! - `WATCHDOG=1` every half of `WATCHDOG_USEC` (set by `WatchdogSec=`), sent by a task on the
//!   host's tokio runtime: when that runtime stops polling tasks (its only thread, or all its
//!   worker threads, blocked by a service that never yields, or a deadlock), the pings stop and
//!   systemd kills and restarts the process. A busy multi-threaded runtime with one worker still
//!   free keeps pinging: the watchdog guards the runtime, not each service (see the HTTP
//!   endpoints' health for those).
//!
//! [`notify_status`] sends your own `STATUS=` lines.
//!
//! A unit file for a host built with `--features systemd`:
//!
//! ```ini
//! [Unit]
//! Description=My background services
//! After=network-online.target
//! Wants=network-online.target
//!
//! [Service]
//! Type=notify
//! ExecStart=/usr/local/bin/my-app
//! # Restarted when no ping arrives for 30 s (the host pings every 15 s).
//! WatchdogSec=30s
//! Restart=on-failure
//! # SIGTERM, then the host's shutdown timeout (30 s by default), then SIGKILL: keep it larger.
//! TimeoutStopSec=45s
//! Environment=RUST_LOG=info
//!
//! [Install]
//! WantedBy=multi-user.target
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::task::JoinHandle;

use crate::handle::{HostHandle, Phase};
use crate::status::State;

/// Sends `STATUS=<text>` to the service manager; does nothing when not run by systemd (no
/// `NOTIFY_SOCKET`).
pub fn notify_status(text: &str) -> std::io::Result<()> {
    sd_notify::notify(&[NotifyState::Status(text)])
}

/// The notifier task of one [`Host::run`](crate::Host::run); aborted when dropped.
pub(crate) struct Notifier(Option<(JoinHandle<()>, Arc<AtomicBool>)>);

impl Drop for Notifier {
    fn drop(&mut self) {
        if let Some((task, stopping_sent)) = &self.0 {
            task.abort();
            // A shutdown so quick that the task was not polled again: say it here.
            if !stopping_sent.load(Ordering::Acquire) {
                send(&[NotifyState::Stopping, NotifyState::Status("stopped")]);
            }
        }
    }
}

impl Notifier {
    /// Says `STOPPING=1` now, if the notifier's task has not yet: the host's run calls this as its
    /// shutdown begins, so the line never waits for the task to be polled.
    pub(crate) fn stopping(&self) {
        if let Some((_, stopping_sent)) = &self.0
            && !stopping_sent.swap(true, Ordering::AcqRel)
        {
            send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
        }
    }

    /// Starts notifying for `handle`'s host, if `NOTIFY_SOCKET` is set.
    pub(crate) fn spawn(handle: &HostHandle, services: usize) -> Notifier {
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            return Notifier(None);
        }
        let handle = handle.clone();
        let watchdog = sd_notify::watchdog_enabled();
        let stopping_sent = Arc::new(AtomicBool::new(false));
        let sent = stopping_sent.clone();
        let task = tokio::spawn(async move {
            send(&[NotifyState::Status(&format!("starting {services} services"))]);
            tokio::join!(lifecycle(&handle, &sent), ping(watchdog));
        });
        Notifier(Some((task, stopping_sent)))
    }
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::warn!(%error, "cannot notify systemd");
    }
}

async fn lifecycle(handle: &HostHandle, stopping_sent: &AtomicBool) {
    tokio::select! {
        biased;
        _ = handle.stop_requested() => {}
        _ = handle.wait_for(Phase::Started) => {
            if !handle.is_stop_requested() {
                let mut last = summary(handle);
                send(&[NotifyState::Ready, NotifyState::Status(&last)]);
                // Keep `systemctl status` current: failed and restarting services, every 2 s.
                let mut every = tokio::time::interval(STATUS_EVERY);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        biased;
                        _ = handle.stop_requested() => break,
                        _ = every.tick() => {
                            let now = summary(handle);
                            if now != last {
                                send(&[NotifyState::Status(&now)]);
                                last = now;
                            }
                        }
                    }
                }
            }
        }
    }
    handle.stop_requested().await;
    if !stopping_sent.swap(true, Ordering::AcqRel) {
        send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }
}

/// How often the `STATUS=` line is refreshed while the host runs.
const STATUS_EVERY: Duration = Duration::from_secs(2);

/// `running 6 services`, then `; failed: a, b` and `; restarting: c` when there are such.
fn summary(handle: &HostHandle) -> String {
    let status = handle.status();
    let names = |f: fn(State) -> bool| {
        let names: Vec<&str> = status.iter().filter(|s| f(s.state)).map(|s| s.name.as_str()).collect();
        names.join(", ")
    };
    let mut text = format!("running {} services", status.len());
    for (label, names) in [
        ("failed", names(|s| matches!(s, State::Failed | State::Aborted))),
        ("restarting", names(|s| s == State::Restarting)),
    ] {
        if !names.is_empty() {
            text.push_str(&format!("; {label}: {names}"));
        }
    }
    text
}

/// Pings every half of the watchdog period for as long as this task is polled.
async fn ping(watchdog: Option<Duration>) {
    let Some(period) = watchdog.filter(|p| !p.is_zero()) else {
        return;
    };
    let mut interval = tokio::time::interval(period / 2);
    // After a stall, one ping, not a burst that would hide how long the runtime was stuck.
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tracing::debug!(every = ?(period / 2), "pinging the systemd watchdog");
    loop {
        interval.tick().await;
        send(&[NotifyState::Watchdog]);
    }
}
