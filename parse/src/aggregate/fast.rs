//! The fast path for the common record: `<record>` laid out as the RFCs
//! show it, every value canonical, nothing to repair. Read straight from the
//! document slice; on anything else it gives up (`None`) and the general
//! state machine reads the record instead, so results are the same either
//! way (the `aggregate` fuzz target checks that against the streaming path,
//! which never takes this one).

use std::borrow::Cow;

use dmarcflow_schemas::aggregate::{DkimAuth, DkimResult, Record, SpfAuth, SpfResult};
use dmarcflow_schemas::{Match, TextEnum, Warnings};

use super::fields;

/// A position in the document, moved over the record's elements. Every
/// step either consumes what it expected or leaves the cursor where it was;
/// `None` from a step means "give up" (the general path reads the record).
struct Cursor<'x> {
    text: &'x str,
    pos: usize,
}

impl<'x> Cursor<'x> {
    /// Skips white space between elements (the general path ignores any
    /// text there); something must follow.
    fn skip(&mut self) -> Option<()> {
        let b = self.text.as_bytes();
        // Indentation is a newline and a few spaces: eight bytes at a time.
        while let Some(chunk) = b.get(self.pos..self.pos + 8) {
            let word = u64::from_le_bytes(chunk.try_into().ok()?);
            let printable = above_space(word);
            if printable != 0 {
                self.pos += (printable.trailing_zeros() / 8) as usize;
                return Some(());
            }
            self.pos += 8;
        }
        while *b.get(self.pos)? <= b' ' {
            self.pos += 1;
        }
        Some(())
    }

    /// Consumes `tag` (a whole `<name>` or `</name>`) when it is next.
    #[inline(always)]
    fn at(&mut self, tag: &[u8]) -> bool {
        let found = self.text.as_bytes().get(self.pos..self.pos + tag.len()) == Some(tag);
        if found {
            self.pos += tag.len();
        }
        found
    }

    /// The value after an opening tag just consumed, up to `close`:
    /// non-empty, unpadded, with no `&` and no element inside.
    #[inline(always)]
    fn value(&mut self, close: &[u8]) -> Option<&'x str> {
        let b = self.text.as_bytes();
        let start = self.pos;
        let end = value_end(b, start)?;
        if b[end] == b'&' || b.get(end..end + close.len()) != Some(close) {
            return None;
        }
        let value = self.text.get(start..end)?;
        if value.is_empty() || fields::is_padded(value) {
            return None;
        }
        self.pos = end + close.len();
        Some(value)
    }
}

/// The first `<` or `&` at or after `start`. Values are short (an address,
/// a domain, `pass`): eight bytes at a time in a register first, as a call
/// to `memchr2` costs more than such a value; `memchr2` past 32 bytes.
#[inline(always)]
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte equal to `byte`; the lowest one set is
    // always a true match (a borrow only flags bytes above a match).
    let equal = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x & HIGH
    };
    let mut at = start;
    while at < start + 32 {
        let Some(chunk) = b.get(at..at + 8) else {
            break;
        };
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let hits = equal(word, b'<') | equal(word, b'&');
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    Some(at + memchr::memchr2(b'<', b'&', b.get(at..)?)?)
}

/// High bit set in each byte of `word` above `b' '` (exactly those: the
/// bytes' low seven bits are added to without carrying into the next byte).
#[inline(always)]
fn above_space(word: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = word & !HIGH;
    ((low + 0x5f5f_5f5f_5f5f_5f5f) | word) & HIGH
}

/// `<name>` and `</name>` as byte strings.
macro_rules! tags {
    ($name:literal) => {
        (
            concat!("<", $name, ">").as_bytes(),
            concat!("</", $name, ">").as_bytes(),
        )
    };
}

/// When `<name>` is next: its value (giving up if it is not a plain one).
macro_rules! leaf {
    ($c:expr, $name:literal) => {{
        let (open, close) = tags!($name);
        if $c.at(open) {
            Some($c.value(close)?)
        } else {
            None
        }
    }};
}

/// A known value in its canonical spelling, or give up.
fn exact<'x, T: TextEnum<'x>>(value: &'x str) -> Option<T> {
    match T::read(Cow::Borrowed(value)) {
        (v, Match::Exact) => Some(v),
        _ => None,
    }
}

/// Reads one record whose `<record>` ends just before `pos` into `rec` (a
/// default one, filled in place: a record is a few hundred bytes, and
/// returning it by value copied it at every step up to the vector); the
/// offset after `</record>`. Children may come in any order. On `None`,
/// `rec` holds whatever was read before giving up.
pub(crate) fn record<'x>(text: &'x str, pos: usize, rec: &mut Record<'x>) -> Option<usize> {
    let mut c = Cursor { text, pos };
    loop {
        c.skip()?;
        if c.at(b"</record>") {
            break;
        } else if c.at(b"<row>") {
            row(&mut c, rec)?;
        } else if c.at(b"<identifiers>") {
            identifiers(&mut c, rec)?;
        } else if c.at(b"<auth_results>") {
            auth_results(&mut c, rec)?;
        } else {
            return None;
        }
    }
    if rec.source_ip.is_empty() || rec.header_from.is_empty() {
        return None;
    }
    Some(c.pos)
}

fn row<'x>(c: &mut Cursor<'x>, rec: &mut Record<'x>) -> Option<()> {
    loop {
        c.skip()?;
        if c.at(b"</row>") {
            return Some(());
        } else if let Some(v) = leaf!(c, "source_ip") {
            let mut w = Warnings::default();
            rec.source_ip = fields::source_ip(Cow::Borrowed(v), &mut w);
            if !w.is_empty() {
                return None;
            }
        } else if let Some(v) = leaf!(c, "count") {
            rec.count = v.parse().ok()?;
        } else if c.at(b"<policy_evaluated>") {
            loop {
                c.skip()?;
                if c.at(b"</policy_evaluated>") {
                    break;
                } else if let Some(v) = leaf!(c, "disposition") {
                    rec.disposition = Some(exact(v)?);
                } else if let Some(v) = leaf!(c, "dkim") {
                    rec.dkim = Some(exact(v)?);
                } else if let Some(v) = leaf!(c, "spf") {
                    rec.spf = Some(exact(v)?);
                } else {
                    return None;
                }
            }
        } else {
            return None;
        }
    }
}

fn identifiers<'x>(c: &mut Cursor<'x>, rec: &mut Record<'x>) -> Option<()> {
    loop {
        c.skip()?;
        if c.at(b"</identifiers>") {
            return Some(());
        } else if let Some(v) = leaf!(c, "header_from") {
            rec.header_from = Cow::Borrowed(v);
        } else if let Some(v) = leaf!(c, "envelope_from") {
            rec.envelope_from = Some(Cow::Borrowed(v));
        } else if let Some(v) = leaf!(c, "envelope_to") {
            rec.envelope_to = Some(Cow::Borrowed(v));
        } else {
            return None;
        }
    }
}

fn auth_results<'x>(c: &mut Cursor<'x>, rec: &mut Record<'x>) -> Option<()> {
    loop {
        c.skip()?;
        if c.at(b"</auth_results>") {
            return Some(());
        } else if c.at(b"<dkim>") {
            let (mut domain, mut selector, mut result, mut human) = (None, None, None, None);
            loop {
                c.skip()?;
                if c.at(b"</dkim>") {
                    break;
                } else if let Some(v) = leaf!(c, "domain") {
                    domain = Some(Cow::Borrowed(v));
                } else if let Some(v) = leaf!(c, "selector") {
                    selector = Some(Cow::Borrowed(v));
                } else if let Some(v) = leaf!(c, "result") {
                    result = Some(exact::<DkimResult>(v)?);
                } else if let Some(v) = leaf!(c, "human_result") {
                    human = Some(Cow::Borrowed(v));
                } else {
                    return None;
                }
            }
            rec.dkim_results.push(DkimAuth {
                domain: domain.unwrap_or_default(),
                selector,
                result: result?,
                human_result: human,
            });
        } else if c.at(b"<spf>") {
            let (mut domain, mut scope, mut result, mut human) = (None, None, None, None);
            loop {
                c.skip()?;
                if c.at(b"</spf>") {
                    break;
                } else if let Some(v) = leaf!(c, "domain") {
                    domain = Some(Cow::Borrowed(v));
                } else if let Some(v) = leaf!(c, "scope") {
                    scope = Some(exact(v)?);
                } else if let Some(v) = leaf!(c, "result") {
                    result = Some(exact::<SpfResult>(v)?);
                } else if let Some(v) = leaf!(c, "human_result") {
                    human = Some(Cow::Borrowed(v));
                } else {
                    return None;
                }
            }
            rec.spf_results.push(SpfAuth {
                domain: domain.unwrap_or_default(),
                scope,
                result: result?,
                human_result: human,
            });
        } else {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{above_space, value_end, Cursor};
    use dmarcflow_testkit::Rng;

    #[test]
    fn skip_stops_at_the_first_byte_above_space() {
        for byte in 0..=255u8 {
            for at in 0..8 {
                let mut word = [b' '; 8];
                word[at] = byte;
                let hits = above_space(u64::from_le_bytes(word));
                let first = (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize);
                assert_eq!(first, (byte > b' ').then_some(at), "{byte} at {at}");
            }
        }
        let text = "\n\t   \r\n      <row>\u{e9}";
        for start in 0..14 {
            let mut c = Cursor { text, pos: start };
            assert_eq!((c.skip(), c.pos), (Some(()), 13));
        }
        let mut c = Cursor {
            text: "\n    \n      ",
            pos: 0,
        };
        assert_eq!(c.skip(), None);
    }

    #[test]
    fn value_end_finds_the_first_lt_or_amp() {
        for seed in Rng::new(0x9e37_79b9_7f4a_7c15).take(20_000) {
            let len = (seed % 80) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| match (seed >> (i % 60)) % 23 {
                    0 => b'<',
                    1 => b'&',
                    2 => 0x80 | (i as u8),
                    k => b'a' + k as u8,
                })
                .collect();
            let start = (seed >> 40) as usize % (len + 1);
            let naive = text[start..]
                .iter()
                .position(|b| *b == b'<' || *b == b'&')
                .map(|p| start + p);
            assert_eq!(value_end(&text, start), naive, "{text:?} from {start}");
        }
    }
}
