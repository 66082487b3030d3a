//! The tolerances a parser applied to one report.

use serde::{Deserialize, Serialize};

/// Distinct warnings, in the order first seen. A million records with the same
/// quirk give one warning, and a hostile report cannot grow the list past
/// [`Warnings::MAX`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Warnings(Vec<String>);

impl Warnings {
    /// The most distinct warnings kept; one more line says how many were dropped.
    pub const MAX: usize = 64;

    /// Records a warning unless it is already there.
    pub fn push(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.0.contains(&text) {
            return;
        }
        match self.0.len() {
            n if n < Self::MAX => self.0.push(text),
            n if n == Self::MAX => self.0.push("further distinct warnings dropped".into()),
            _ => {}
        }
    }

    /// Whether any warning starts with `prefix`.
    pub fn has(&self, prefix: &str) -> bool {
        self.0.iter().any(|w| w.starts_with(prefix))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_and_caps() {
        let mut w = Warnings::default();
        for _ in 0..3 {
            w.push("same");
        }
        assert_eq!(w.len(), 1);
        for i in 0..200 {
            w.push(format!("w{i}"));
        }
        assert_eq!(w.len(), Warnings::MAX + 1);
        assert!(w.has("further distinct"));
    }
}
