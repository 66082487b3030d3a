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

/// The next thing inside a container.
enum Child<'x> {
    /// `<name>value</name>`, value non-empty, unpadded, with no `&`.
    Leaf(&'x [u8], &'x str),
    /// `<name>` with elements inside.
    Open(&'x [u8]),
    /// `</name>`.
    Close(&'x [u8]),
}

fn child<'x>(text: &'x str, pos: &mut usize) -> Option<Child<'x>> {
    let b = text.as_bytes();
    let mut i = *pos;
    // White space between elements (the general path ignores any text there).
    while *b.get(i)? <= b' ' {
        i += 1;
    }
    if b[i] != b'<' {
        return None;
    }
    i += 1;
    if *b.get(i)? == b'/' {
        let start = i + 1;
        i = start;
        while *b.get(i)? != b'>' {
            i += 1;
        }
        *pos = i + 1;
        return Some(Child::Close(&b[start..i]));
    }
    // A bare name, then `>`.
    let start = i;
    while let Some(&c) = b.get(i) {
        if !(c.is_ascii_lowercase() || c == b'_') {
            break;
        }
        i += 1;
    }
    if i == start || *b.get(i)? != b'>' {
        return None;
    }
    let name = &b[start..i];
    let value_start = i + 1;
    let j = value_start + memchr::memchr2(b'<', b'&', &b[value_start..])?;
    if b[j] == b'&' {
        return None;
    }
    let close = j + 2 + name.len();
    if b.get(j + 1) == Some(&b'/')
        && same(b.get(j + 2..close)?, name)
        && b.get(close) == Some(&b'>')
    {
        let value = &text[value_start..j];
        if value.is_empty() || fields::is_padded(value) {
            return None;
        }
        *pos = close + 1;
        return Some(Child::Leaf(name, value));
    }
    *pos = value_start;
    Some(Child::Open(name))
}

/// Equal short byte strings, compared inline.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A known value in its canonical spelling, or give up.
fn exact<'x, T: TextEnum<'x>>(value: &'x str) -> Option<T> {
    match T::read(Cow::Borrowed(value)) {
        (v, Match::Exact) => Some(v),
        _ => None,
    }
}

/// Reads one record whose `<record>` ends just before `pos`; the record and
/// the offset after `</record>`.
pub(crate) fn record(text: &str, mut pos: usize) -> Option<(Record<'_>, usize)> {
    let mut rec = Record::default();
    loop {
        match child(text, &mut pos)? {
            Child::Close(b"record") => break,
            Child::Open(b"row") => row(text, &mut pos, &mut rec)?,
            Child::Open(b"identifiers") => identifiers(text, &mut pos, &mut rec)?,
            Child::Open(b"auth_results") => auth_results(text, &mut pos, &mut rec)?,
            _ => return None,
        }
    }
    if rec.source_ip.is_empty() || rec.header_from.is_empty() {
        return None;
    }
    Some((rec, pos))
}

fn row<'x>(text: &'x str, pos: &mut usize, rec: &mut Record<'x>) -> Option<()> {
    loop {
        match child(text, pos)? {
            Child::Close(b"row") => return Some(()),
            Child::Leaf(b"source_ip", v) => {
                let mut w = Warnings::default();
                rec.source_ip = fields::source_ip(Cow::Borrowed(v), &mut w);
                if !w.is_empty() {
                    return None;
                }
            }
            Child::Leaf(b"count", v) => rec.count = v.parse().ok()?,
            Child::Open(b"policy_evaluated") => loop {
                match child(text, pos)? {
                    Child::Close(b"policy_evaluated") => break,
                    Child::Leaf(b"disposition", v) => rec.disposition = Some(exact(v)?),
                    Child::Leaf(b"dkim", v) => rec.dkim = Some(exact(v)?),
                    Child::Leaf(b"spf", v) => rec.spf = Some(exact(v)?),
                    _ => return None,
                }
            },
            _ => return None,
        }
    }
}

fn identifiers<'x>(text: &'x str, pos: &mut usize, rec: &mut Record<'x>) -> Option<()> {
    loop {
        match child(text, pos)? {
            Child::Close(b"identifiers") => return Some(()),
            Child::Leaf(b"header_from", v) => rec.header_from = Cow::Borrowed(v),
            Child::Leaf(b"envelope_from", v) => rec.envelope_from = Some(Cow::Borrowed(v)),
            Child::Leaf(b"envelope_to", v) => rec.envelope_to = Some(Cow::Borrowed(v)),
            _ => return None,
        }
    }
}

fn auth_results<'x>(text: &'x str, pos: &mut usize, rec: &mut Record<'x>) -> Option<()> {
    loop {
        match child(text, pos)? {
            Child::Close(b"auth_results") => return Some(()),
            Child::Open(b"dkim") => {
                let (mut domain, mut selector, mut result, mut human) = (None, None, None, None);
                loop {
                    match child(text, pos)? {
                        Child::Close(b"dkim") => break,
                        Child::Leaf(b"domain", v) => domain = Some(Cow::Borrowed(v)),
                        Child::Leaf(b"selector", v) => selector = Some(Cow::Borrowed(v)),
                        Child::Leaf(b"result", v) => result = Some(exact::<DkimResult>(v)?),
                        Child::Leaf(b"human_result", v) => human = Some(Cow::Borrowed(v)),
                        _ => return None,
                    }
                }
                rec.dkim_results.push(DkimAuth {
                    domain: domain.unwrap_or_default(),
                    selector,
                    result: result?,
                    human_result: human,
                });
            }
            Child::Open(b"spf") => {
                let (mut domain, mut scope, mut result, mut human) = (None, None, None, None);
                loop {
                    match child(text, pos)? {
                        Child::Close(b"spf") => break,
                        Child::Leaf(b"domain", v) => domain = Some(Cow::Borrowed(v)),
                        Child::Leaf(b"scope", v) => scope = Some(exact(v)?),
                        Child::Leaf(b"result", v) => result = Some(exact::<SpfResult>(v)?),
                        Child::Leaf(b"human_result", v) => human = Some(Cow::Borrowed(v)),
                        _ => return None,
                    }
                }
                rec.spf_results.push(SpfAuth {
                    domain: domain.unwrap_or_default(),
                    scope,
                    result: result?,
                    human_result: human,
                });
            }
            _ => return None,
        }
    }
}
