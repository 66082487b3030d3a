//! A record's DKIM or SPF results: nearly always exactly one, so the first
//! is held inline and only further ones go to a vector. A report of many
//! records then costs no allocation per record for them. On the wire it is
//! a JSON array like any list.

use std::ops::Index;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub struct AuthResults<T> {
    /// `None` only when there are none (then `rest` is empty too).
    first: Option<T>,
    rest: Vec<T>,
}

impl<T> Default for AuthResults<T> {
    fn default() -> Self {
        Self {
            first: None,
            rest: Vec::new(),
        }
    }
}

impl<T> AuthResults<T> {
    pub fn push(&mut self, result: T) {
        if self.first.is_none() {
            self.first = Some(result);
        } else {
            self.rest.push(result);
        }
    }

    pub fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    pub fn first(&self) -> Option<&T> {
        self.first.as_ref()
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        match index {
            0 => self.first.as_ref(),
            n => self.rest.get(n - 1),
        }
    }

    pub fn iter(&self) -> Iter<'_, T> {
        self.first.iter().chain(self.rest.iter())
    }
}

pub type Iter<'r, T> = std::iter::Chain<std::option::Iter<'r, T>, std::slice::Iter<'r, T>>;

impl<T> Index<usize> for AuthResults<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        match index {
            0 => self.first.as_ref().unwrap_or_else(|| &self.rest[0]),
            n => &self.rest[n - 1],
        }
    }
}

impl<'r, T> IntoIterator for &'r AuthResults<T> {
    type Item = &'r T;
    type IntoIter = Iter<'r, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> IntoIterator for AuthResults<T> {
    type Item = T;
    type IntoIter = std::iter::Chain<std::option::IntoIter<T>, std::vec::IntoIter<T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.first.into_iter().chain(self.rest)
    }
}

impl<T> FromIterator<T> for AuthResults<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        let first = iter.next();
        Self {
            rest: if first.is_some() {
                iter.collect()
            } else {
                Vec::new()
            },
            first,
        }
    }
}

impl<T> From<Vec<T>> for AuthResults<T> {
    fn from(results: Vec<T>) -> Self {
        results.into_iter().collect()
    }
}

impl<T: Serialize> Serialize for AuthResults<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for AuthResults<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::AuthResults;

    #[test]
    fn holds_any_number_in_order() {
        let mut r = AuthResults::default();
        assert!(r.is_empty());
        assert_eq!(serde_json::to_string(&r).ok().as_deref(), Some("[]"));
        for n in 1..=3 {
            r.push(n);
            assert_eq!(r.len(), n);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!((r[0], r[2], r.get(3)), (1, 3, None));
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert_eq!(json, "[1,2,3]");
        let back: AuthResults<usize> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, r);
        assert_eq!(r.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
    }
}
