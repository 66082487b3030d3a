//! Reproducible pseudo-random numbers for the tests that compare a fast
//! routine with the standard library over many generated inputs.

/// Marsaglia's xorshift64: a fixed seed gives the same sequence every run.
pub(crate) struct XorShift(pub(crate) u64);

impl Iterator for XorShift {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Some(self.0)
    }
}
