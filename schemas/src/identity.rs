//! Stable report identities: the Kafka message key and the stores' dedup key.
//!
//! An identity is the first 16 bytes of a SHA-256 over length-prefixed fields,
//! written as 32 lowercase hex digits. Length prefixes keep `("ab", "c")` and
//! `("a", "bc")` apart.

use sha2::{Digest, Sha256};

/// Builds an identity from fields in a fixed order.
#[derive(Default)]
pub struct IdentityHasher {
    hasher: Sha256,
}

impl IdentityHasher {
    /// Starts an identity for one report kind; the kind is hashed first so two
    /// kinds never share a key.
    pub fn new(kind: &str) -> Self {
        let mut h = Self::default();
        h.field(kind.as_bytes());
        h
    }

    /// Adds one field.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
        self
    }

    /// Adds an optional text field; absent and empty differ.
    pub fn opt(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(t) => self.field(b"\x01").field(t.as_bytes()),
            None => self.field(b"\x00"),
        }
    }

    /// Adds an integer field.
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.field(&v.to_le_bytes())
    }

    /// The identity as 32 hex digits.
    pub fn finish(&self) -> String {
        let digest = self.hasher.clone().finalize();
        let mut out = String::with_capacity(32);
        for b in &digest[..16] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefix_separates_fields() {
        let a = IdentityHasher::new("k").field(b"ab").field(b"c").finish();
        let b = IdentityHasher::new("k").field(b"a").field(b"bc").finish();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn kind_is_part_of_identity() {
        let a = IdentityHasher::new("aggregate").field(b"x").finish();
        let b = IdentityHasher::new("tlsrpt").field(b"x").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn absent_differs_from_empty() {
        let a = IdentityHasher::new("k").opt(None).finish();
        let b = IdentityHasher::new("k").opt(Some("")).finish();
        assert_ne!(a, b);
    }
}
