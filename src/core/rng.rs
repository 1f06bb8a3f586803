//! The core's only source of randomness: a tiny deterministic PRNG (xorshift64*)
//! seeded at construction, so every run of a test is reproducible and the core
//! never reaches for a host random source.

/// xorshift64* (Vigna, 2014): three shifts and a multiply, plenty for jitter.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // The all-zero state is a fixed point of xorshift; any other constant works.
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n`, or 0 when `n` is 0.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sequence() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn outputs_are_xorshift64_star() {
        // Reference values of xorshift64* (shifts 12, 25, 27; multiplier
        // 0x2545F4914F6CDD1D), computed outside this code.
        let mut rng = Rng::new(1);
        assert_eq!(rng.next_u64(), 0x47e4_ce4b_896c_dd1d);
        assert_eq!(rng.next_u64(), 0xabcf_a6a8_e079_651d);
        assert_eq!(rng.next_u64(), 0xb9d1_0d8f_eb73_1f57);
        let mut zero = Rng::new(0);
        assert_eq!(zero.next_u64(), 0x0d83_b3e2_9a21_487a);
        assert_eq!(zero.next_u64(), 0x54c4_4c79_f1fe_9d67);
    }

    #[test]
    fn zero_seed_does_not_get_stuck_at_zero() {
        let mut rng = Rng::new(0);
        assert!((0..10).any(|_| rng.next_u64() != 0));
    }

    #[test]
    fn below_stays_in_range_and_handles_zero() {
        let mut rng = Rng::new(7);
        assert_eq!(rng.below(0), 0);
        assert!((0..1000).all(|_| rng.below(10) < 10));
    }
}
