//! Failure policies: what the host does when a service fails.

use std::time::Duration;

/// What the host does when a service fails: its body returns `Err` or panics, or (for a periodic
/// service) it reaches its `max_failures` consecutive failed runs.
///
/// The host's default is [`FailurePolicy::StopHost`] (as .NET 6+), set with
/// [`Builder::on_failure`](crate::Builder::on_failure); each service may override it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Log the failure and shut the whole host down gracefully; `run()` returns
    /// [`Error::ServiceFailed`](crate::Error::ServiceFailed), so the process exits non-zero.
    #[default]
    StopHost,
    /// Log the failure and leave the service stopped; the host and every other service go on.
    Ignore,
    /// Log the failure and run the service again after an exponential back-off; escalate to
    /// [`FailurePolicy::StopHost`] when restarts come faster than the [`Restart`] intensity allows.
    Restart(Restart),
}

/// Restart back-off and intensity, as an Erlang/OTP supervisor has them.
///
/// The n-th restart within the `window` waits `initial × factorⁿ⁻¹`, capped at `max`, plus a random
/// `jitter` fraction of that. More than `max_restarts` restarts within `window` escalate to
/// [`FailurePolicy::StopHost`]. Restarts older than `window` are forgotten, which also resets the
/// back-off.
///
/// Defaults: `initial` 1 s, `max` 30 s, `factor` 2, `jitter` 0, at most 5 restarts in 60 s: with these,
/// a service that always fails is restarted after 1, 2, 4, 8 and 16 s and then stops the host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Restart {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    pub(crate) factor: f64,
    pub(crate) jitter: f64,
    pub(crate) max_restarts: u32,
    pub(crate) window: Duration,
}

impl Default for Restart {
    fn default() -> Self {
        Self::new()
    }
}

impl Restart {
    /// The defaults described above.
    pub const fn new() -> Self {
        Restart {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.0,
            max_restarts: 5,
            window: Duration::from_secs(60),
        }
    }

    /// The delay before the first restart.
    pub const fn initial(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// The longest delay.
    pub const fn max(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// The factor each further restart multiplies the delay by (at least 1).
    pub const fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor < 1.0 { 1.0 } else { factor };
        self
    }

    /// A random extra of up to this fraction of each delay (0 to 1), so replicas do not restart
    /// in lockstep.
    pub const fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction < 0.0 {
            0.0
        } else if fraction > 1.0 {
            1.0
        } else {
            fraction
        };
        self
    }

    /// Restart intensity: more than `max_restarts` restarts within `window` stop the host.
    pub const fn intensity(self, max_restarts: u32, window: Duration) -> Self {
        self.max_restarts(max_restarts).window(window)
    }

    /// The most restarts allowed within the [`window`](Self::window) before the failure escalates
    /// to [`FailurePolicy::StopHost`].
    pub const fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The sliding window restarts are counted in; older restarts are forgotten (which also resets
    /// the back-off).
    pub const fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The delay before the restart that follows `recent` restarts within the window.
    pub(crate) fn delay(&self, recent: u32, rng: &mut fastrand::Rng) -> Duration {
        let capped = crate::clock::backoff(self.initial, self.factor, recent, self.max);
        let jittered = capped.as_secs_f64() * (1.0 + self.jitter * rng.f64());
        Duration::try_from_secs_f64(jittered).unwrap_or(self.max)
    }
}
