//! Delay policy for send retries and repeated reconnect failures: capped
//! exponential growth (factor 2) with "equal jitter", so a crowd of clients that
//! failed together does not come back together; without jitter (`retry_jitter` off,
//! as the existing client waits), the ceiling itself.

use super::rng::Rng;

/// Capped exponential backoff. Attempt `n` (0-based) waits a random time in
/// `[c/2, c]` where `c = min(max_ms, initial_ms * 2^n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub initial_ms: u64,
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial_ms: 500,
            max_ms: 30_000,
        }
    }
}

impl Backoff {
    /// The ceiling of attempt `attempt` before jitter.
    pub fn ceiling(&self, attempt: u32) -> u64 {
        let factor = 1u64.checked_shl(attempt).unwrap_or(u64::MAX);
        self.initial_ms.saturating_mul(factor).min(self.max_ms)
    }

    /// The delay of attempt `attempt`: jittered, or the ceiling without jitter.
    pub(crate) fn delay_of(&self, attempt: u32, jitter: bool, rng: &mut Rng) -> u64 {
        if jitter {
            self.delay(attempt, rng)
        } else {
            self.ceiling(attempt)
        }
    }

    pub(crate) fn delay(&self, attempt: u32, rng: &mut Rng) -> u64 {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        half + rng.below(ceiling - half + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_until_the_cap() {
        let b = Backoff {
            initial_ms: 100,
            max_ms: 1000,
        };
        let ceilings: Vec<u64> = (0..6).map(|n| b.ceiling(n)).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn huge_attempt_numbers_saturate_at_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(63), b.max_ms);
        assert_eq!(b.ceiling(200), b.max_ms);
    }

    #[test]
    fn delay_is_jittered_between_half_and_full_ceiling() {
        let b = Backoff {
            initial_ms: 1000,
            max_ms: 60_000,
        };
        let mut rng = Rng::new(3);
        let delays: Vec<u64> = (0..200).map(|_| b.delay(2, &mut rng)).collect();
        assert!(delays.iter().all(|d| (2000..=4000).contains(d)));
        assert!(delays.iter().any(|d| *d != delays[0]), "no jitter at all");
    }

    #[test]
    fn delay_reaches_both_ends_of_its_range() {
        let b = Backoff {
            initial_ms: 2,
            max_ms: 2,
        };
        let mut rng = Rng::new(5);
        let delays: Vec<u64> = (0..50).map(|_| b.delay(0, &mut rng)).collect();
        assert!(delays.iter().all(|d| (1..=2).contains(d)), "{delays:?}");
        assert!(delays.contains(&1) && delays.contains(&2), "{delays:?}");
    }

    #[test]
    fn without_jitter_the_delay_is_the_ceiling() {
        let b = Backoff {
            initial_ms: 1_000,
            max_ms: 10_000,
        };
        let mut rng = Rng::new(9);
        let delays: Vec<u64> = (0..6).map(|n| b.delay_of(n, false, &mut rng)).collect();
        assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        let jittered: Vec<u64> = (0..50).map(|_| b.delay_of(3, true, &mut rng)).collect();
        assert!(jittered.iter().all(|d| (4_000..=8_000).contains(d)));
        assert!(jittered.iter().any(|d| *d != 8_000), "jitter when asked");
    }
}
