//! [`Retry`]: how often a failed item is tried again, and how long the queue waits in between.

use std::time::Duration;

/// Retries of a failed item: at most `attempts` attempts in all, the n-th retry after
/// `initial × factorⁿ⁻¹`, capped at `max`.
///
/// Defaults: 3 attempts, `initial` 1 s, `factor` 2, `max` 1 min: an item that always fails is
/// tried at 0 s, 1 s and 3 s, then dead-lettered. [`Retry::none`] tries each item once.
///
/// The back-off is exact (no jitter): items fail independently of each other, so there is no herd
/// to spread. A worker waits out its item's back-off before taking the next one, as a hand-written
/// worker loop would; the queue's other workers go on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    pub(crate) attempts: u32,
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
    pub(crate) factor: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Self::new()
    }
}

impl Retry {
    /// The defaults described above.
    pub const fn new() -> Self {
        Retry {
            attempts: 3,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            factor: 2.0,
        }
    }

    /// One attempt, no retry: a failed item goes straight to the dead-letter hook.
    pub const fn none() -> Self {
        Self::new().attempts(1)
    }

    /// The most attempts per item, the first included (at least 1).
    pub const fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = if attempts == 0 { 1 } else { attempts };
        self
    }

    /// The delay before the first retry.
    pub const fn initial(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// The longest delay between two attempts.
    pub const fn max(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// The factor each further retry multiplies the delay by (at least 1).
    pub const fn factor(mut self, factor: f64) -> Self {
        self.factor = if factor < 1.0 { 1.0 } else { factor };
        self
    }

    /// The delay after the failed attempt number `attempt` (from 1).
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        crate::clock::backoff(self.initial, self.factor, attempt.saturating_sub(1), self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_factor_up_to_the_cap() {
        let r = Retry::new()
            .initial(Duration::from_millis(100))
            .factor(3.0)
            .max(Duration::from_secs(2));
        let delays: Vec<_> = (1..=5).map(|a| r.delay(a)).collect();
        assert_eq!(delays, [100, 300, 900, 2000, 2000].map(Duration::from_millis).to_vec());
    }

    #[test]
    fn huge_exponents_saturate_at_the_cap() {
        let r = Retry::new().attempts(u32::MAX);
        assert_eq!(r.delay(u32::MAX), Duration::from_secs(60));
        assert_eq!(Retry::new().attempts(0).attempts, 1);
    }
}
