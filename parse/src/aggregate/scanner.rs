//! A small XML scanner for report documents: tokens are slices of the
//! document (borrowed in memory, owned when streamed), nothing is validated
//! twice, and nothing the state machine does not need is decoded. Entity
//! references are resolved only in values that contain `&`.
//!
//! It is deliberately forgiving: a `<` that cannot start markup is text,
//! unknown declarations are skipped, and the only error is markup left open
//! at the end of the input.

use std::borrow::Cow;
use std::io::BufRead;

/// One piece of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'x> {
    /// `<name attrs>` or `<name attrs/>`: `raw` is everything between the
    /// angle brackets (without a closing `/`), the name its first `name_len` bytes.
    Start {
        raw: Cow<'x, str>,
        name_len: usize,
        empty: bool,
    },
    /// `</name>`.
    End {
        name: Cow<'x, str>,
    },
    /// `<name attrs>value</name>` with no markup inside: the common case,
    /// in one token. `escaped` says whether the value contains `&`.
    Leaf {
        raw: Cow<'x, str>,
        name_len: usize,
        value: Cow<'x, str>,
        escaped: bool,
    },
    /// Character data as written: entity references not yet resolved.
    Text(Cow<'x, str>),
    /// The content of a CDATA section, literal.
    CData(Cow<'x, str>),
    Eof,
}

/// Markup left open when the input ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub position: u64,
    pub detail: &'static str,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.detail)
    }
}

/// Byte classes, one table lookup per byte in the hot loops.
const NAME_END: u8 = 1;
const VALUE_END: u8 = 2;
const AMP: u8 = 4;
const SPACE: u8 = 8;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = NAME_END | SPACE;
    t[b'\t' as usize] = NAME_END | SPACE;
    t[b'\n' as usize] = NAME_END | SPACE;
    t[b'\r' as usize] = NAME_END | SPACE;
    t[b'/' as usize] = NAME_END;
    t[b'>' as usize] = NAME_END;
    t[b'<' as usize] = VALUE_END;
    t[b'&' as usize] = AMP;
    t
};

/// A source of tokens living at least as long as `'x`.
pub trait EventSource<'x> {
    fn next_token(&mut self) -> Result<Token<'x>, ScanError>;
    /// A whole `<record>` next, read by the fast path, when the source can
    /// and the record is plain (see `fast.rs`).
    /// Fills `out` (a default record) and says whether it did.
    fn fast_record(&mut self, _out: &mut dmarcflow_schemas::aggregate::Record<'x>) -> bool {
        false
    }
    /// Byte offset reached, for error messages.
    fn position(&self) -> u64;
}

/// What the bytes at a `<` are, and where the markup ends.
enum Markup {
    /// A token ending at this offset (exclusive) relative to the `<`.
    Token(usize, Kind),
    /// Not markup: the `<` is text.
    Literal,
    /// No end before the input ran out.
    Open(&'static str),
}

#[derive(Clone, Copy)]
enum Kind {
    Start,
    End,
    CData,
    Skip,
}

/// Classifies the markup at `at` (which holds `<`) in `b`.
fn markup(b: &[u8], at: usize) -> Markup {
    let rest = &b[at..];
    let find = |needle: &[u8], from: usize| {
        memchr::memmem::find(&rest[from.min(rest.len())..], needle).map(|i| i + from)
    };
    match rest.get(1) {
        None => Markup::Open("input ends after '<'"),
        Some(b'/') => match find_byte(b'>', rest) {
            Some(end) => Markup::Token(end + 1, Kind::End),
            None => Markup::Open("unterminated end tag"),
        },
        Some(b'?') => match find(b"?>", 2) {
            Some(end) => Markup::Token(end + 2, Kind::Skip),
            None => Markup::Open("unterminated processing instruction"),
        },
        Some(b'!') if rest.starts_with(b"<!--") => match find(b"-->", 4) {
            Some(end) => Markup::Token(end + 3, Kind::Skip),
            None => Markup::Open("unterminated comment"),
        },
        Some(b'!') if rest.starts_with(b"<![CDATA[") => match find(b"]]>", 9) {
            Some(end) => Markup::Token(end + 3, Kind::CData),
            None => Markup::Open("unterminated CDATA section"),
        },
        Some(b'!') => match memchr::memchr(b'>', rest) {
            Some(end) => Markup::Token(end + 1, Kind::Skip),
            None => Markup::Open("unterminated declaration"),
        },
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' || *c >= 0x80 => {
            match tag_end(rest) {
                Some(end) => Markup::Token(end + 1, Kind::Start),
                None => Markup::Open("unterminated start tag"),
            }
        }
        Some(_) => Markup::Literal,
    }
}

/// The `>` closing a start tag, skipping quoted attribute values. Tags are
/// short: a plain loop beats a vectorised search's set-up cost here.
fn tag_end(rest: &[u8]) -> Option<usize> {
    // The name first: quotes only delimit attribute values after it.
    let mut i = 1 + name_len(&rest[1..]);
    while i < rest.len() {
        match rest[i] {
            b'>' => return Some(i),
            q @ (b'"' | b'\'') => i += 1 + find_byte(q, &rest[i + 1..])?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The first `needle` in `hay`: a loop over the first bytes, where the
/// answer usually is, then memchr.
fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    let head = hay.len().min(32);
    match hay[..head].iter().position(|b| *b == needle) {
        Some(i) => Some(i),
        None => memchr::memchr(needle, &hay[head..]).map(|i| i + head),
    }
}

/// The length of the element name at the start of `inner`.
fn name_len(inner: &[u8]) -> usize {
    inner
        .iter()
        .position(|b| CLASS[usize::from(*b)] & NAME_END != 0)
        .unwrap_or(inner.len())
}

/// The token for markup `text[start..end]` of a kind.
fn token<'t>(text: &'t str, start: usize, end: usize, kind: Kind) -> Option<Token<'t>> {
    match kind {
        Kind::Start => {
            let inner = &text[start + 1..end - 1];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            Some(Token::Start {
                name_len: name_len(inner.as_bytes()),
                raw: Cow::Borrowed(inner),
                empty,
            })
        }
        Kind::End => Some(Token::End {
            name: Cow::Borrowed(text[start + 2..end - 1].trim_ascii_end()),
        }),
        Kind::CData => Some(Token::CData(Cow::Borrowed(&text[start + 9..end - 3]))),
        Kind::Skip => None,
    }
}

/// Tokens borrowed from a UTF-8 document in memory.
pub struct SliceSource<'x> {
    text: &'x str,
    pos: usize,
    /// The last token was text: white space that follows is part of a value.
    after_text: bool,
}

impl<'x> SliceSource<'x> {
    pub fn new(text: &'x str) -> Self {
        Self {
            text,
            pos: 0,
            after_text: false,
        }
    }
}

impl<'x> EventSource<'x> for SliceSource<'x> {
    fn next_token(&mut self) -> Result<Token<'x>, ScanError> {
        let b = self.text.as_bytes();
        loop {
            // White space after markup is no value (values are trimmed);
            // after text it may be inside one.
            if !self.after_text {
                while self.pos < b.len() && CLASS[usize::from(b[self.pos])] & SPACE != 0 {
                    self.pos += 1;
                }
            }
            if self.pos >= b.len() {
                return Ok(Token::Eof);
            }
            let lt = match find_byte(b'<', &b[self.pos..]) {
                Some(i) => self.pos + i,
                None => b.len(),
            };
            if lt > self.pos {
                let t = &self.text[self.pos..lt];
                self.pos = lt;
                self.after_text = true;
                return Ok(Token::Text(Cow::Borrowed(t)));
            }
            match markup(b, lt) {
                Markup::Token(len, kind) => {
                    self.pos = lt + len;
                    if let Some(t) = token(self.text, lt, lt + len, kind) {
                        self.after_text = matches!(t, Token::CData(_));
                        if let Token::Start {
                            raw,
                            name_len,
                            empty: false,
                        } = t
                        {
                            return Ok(self.leaf(raw, name_len));
                        }
                        return Ok(t);
                    }
                }
                Markup::Literal => {
                    self.pos = lt + 1;
                    self.after_text = true;
                    return Ok(Token::Text(Cow::Borrowed("<")));
                }
                Markup::Open(detail) => {
                    return Err(ScanError {
                        position: lt as u64,
                        detail,
                    })
                }
            }
        }
    }

    fn position(&self) -> u64 {
        self.pos as u64
    }

    fn fast_record(&mut self, out: &mut dmarcflow_schemas::aggregate::Record<'x>) -> bool {
        let b = self.text.as_bytes();
        let mut at = self.pos;
        while at < b.len() && CLASS[usize::from(b[at])] & SPACE != 0 {
            at += 1;
        }
        if !b[at..].starts_with(b"<record>") {
            return false;
        }
        let Some(end) = super::fast::record(self.text, at + 8, out) else {
            return false;
        };
        self.pos = end;
        self.after_text = false;
        true
    }
}

impl<'x> SliceSource<'x> {
    /// After a start tag: the whole `value</name>` as one [`Token::Leaf`]
    /// when that is what follows, else the start tag alone.
    fn leaf(&mut self, raw: Cow<'x, str>, name_len: usize) -> Token<'x> {
        let b = self.text.as_bytes();
        let from = self.pos;
        let mut i = from;
        let mut seen = 0u8;
        // White space after the start tag is dropped, as a streamed document
        // drops it (after markup); `first` is where the value begins.
        let mut first = None;
        while i < b.len() {
            let class = CLASS[usize::from(b[i])];
            if class & VALUE_END != 0 {
                break;
            }
            seen |= class;
            if first.is_none() && class & SPACE == 0 {
                first = Some(i);
            }
            i += 1;
        }
        let escaped = seen & AMP != 0;
        let value_start = first.unwrap_or(i);
        let name = &raw.as_bytes()[..name_len];
        let close = i + 2 + name_len;
        let closes = b.get(i + 1) == Some(&b'/')
            && b.get(i + 2..close) == Some(name)
            && b.get(close) == Some(&b'>');
        if !closes {
            return Token::Start {
                raw,
                name_len,
                empty: false,
            };
        }
        self.pos = close + 1;
        self.after_text = false;
        Token::Leaf {
            raw,
            name_len,
            value: Cow::Borrowed(&self.text[value_start..i]),
            escaped,
        }
    }
}

/// Owned tokens from a UTF-8 stream; memory stays at one token plus the
/// read buffer.
pub struct StreamSource<R> {
    input: R,
    buf: String,
    pos: usize,
    consumed: u64,
    eof: bool,
    /// Bytes read but not yet valid UTF-8 on their own (a split character).
    pending: Vec<u8>,
    /// As in [`SliceSource`]: white space after markup is dropped, after text kept.
    after_text: bool,
}

const CHUNK: usize = 256 << 10;
/// Longest markup (a tag, comment, CDATA section) a stream buffers.
const MAX_MARKUP: usize = 1 << 20;

impl<R: BufRead> StreamSource<R> {
    /// The next token, white space after markup skipped as [`SliceSource`] does.
    fn scan(&mut self) -> Result<Token<'static>, ScanError> {
        loop {
            if !self.after_text {
                let b = self.buf.as_bytes();
                while self.pos < b.len() && CLASS[usize::from(b[self.pos])] & SPACE != 0 {
                    self.pos += 1;
                }
                if self.pos == self.buf.len() && self.refill()? {
                    continue;
                }
            }
            let b = self.buf.as_bytes();
            let Some(rel) = memchr::memchr(b'<', &b[self.pos..]) else {
                // Text up to the end of the buffer: emit it, or read on.
                if self.pos < b.len() && (self.eof || b.len() - self.pos > CHUNK) {
                    let t = self.buf[self.pos..].to_owned();
                    self.pos = self.buf.len();
                    return Ok(Token::Text(Cow::Owned(t)));
                }
                if !self.refill()? {
                    if self.pos < self.buf.len() {
                        let t = self.buf[self.pos..].to_owned();
                        self.pos = self.buf.len();
                        return Ok(Token::Text(Cow::Owned(t)));
                    }
                    return Ok(Token::Eof);
                }
                continue;
            };
            let lt = self.pos + rel;
            if lt > self.pos {
                let t = self.buf[self.pos..lt].to_owned();
                self.pos = lt;
                return Ok(Token::Text(Cow::Owned(t)));
            }
            match markup(b, lt) {
                Markup::Token(len, kind) => {
                    self.pos = lt + len;
                    if let Some(t) = token(&self.buf, lt, lt + len, kind) {
                        return Ok(owned(t));
                    }
                }
                Markup::Literal => {
                    self.pos = lt + 1;
                    return Ok(Token::Text(Cow::Borrowed("<")));
                }
                Markup::Open(detail) => {
                    if self.buf.len() - lt > MAX_MARKUP {
                        // A tag, comment or section that never ends must not
                        // hold the whole stream in the buffer.
                        return Err(ScanError {
                            position: self.consumed + lt as u64,
                            detail:
                                "markup longer than 1 MiB (an unterminated tag, comment or section)",
                        });
                    }
                    if !self.refill()? {
                        // (`refill` moved the window: `pos` is where `lt` was.)
                        return Err(ScanError {
                            position: self.consumed + self.pos as u64,
                            detail,
                        });
                    }
                }
            }
        }
    }

    pub fn new(input: R) -> Self {
        Self {
            input,
            buf: String::with_capacity(2 * CHUNK),
            pos: 0,
            consumed: 0,
            eof: false,
            pending: Vec::new(),
            after_text: false,
        }
    }

    /// Drops what was used and reads more; false at the end of the input.
    fn refill(&mut self) -> Result<bool, ScanError> {
        if self.eof {
            return Ok(false);
        }
        self.buf.drain(..self.pos);
        self.consumed += self.pos as u64;
        self.pos = 0;
        let chunk = self.input.fill_buf().map_err(|_| ScanError {
            position: self.consumed,
            detail: "the input could not be read",
        })?;
        if chunk.is_empty() {
            self.eof = true;
            return Ok(false);
        }
        let n = chunk.len();
        if self.pending.is_empty() {
            // The usual case: straight from the reader's buffer.
            let taken = append_utf8(&mut self.buf, chunk);
            self.pending.extend_from_slice(&chunk[taken..]);
        } else {
            self.pending.extend_from_slice(chunk);
            let taken = append_utf8(&mut self.buf, &self.pending);
            self.pending.drain(..taken);
        }
        self.input.consume(n);
        Ok(true)
    }
}

impl<R: BufRead> EventSource<'static> for StreamSource<R> {
    fn next_token(&mut self) -> Result<Token<'static>, ScanError> {
        let token = self.scan()?;
        match &token {
            Token::Text(_) | Token::CData(_) => self.after_text = true,
            Token::Start { .. } | Token::End { .. } | Token::Leaf { .. } => self.after_text = false,
            Token::Eof => {}
        }
        Ok(token)
    }

    fn position(&self) -> u64 {
        self.consumed + self.pos as u64
    }

    fn fast_record(&mut self, out: &mut dmarcflow_schemas::aggregate::Record<'static>) -> bool {
        // The whole record must be in the buffer: read on until its end is.
        loop {
            let b = self.buf.as_bytes();
            let mut at = self.pos;
            while at < b.len() && CLASS[usize::from(b[at])] & SPACE != 0 {
                at += 1;
            }
            if b.len() - at >= 8 && !b[at..].starts_with(b"<record>") {
                return false;
            }
            if let Some(end) = memchr::memmem::find(&b[at..], b"</record>") {
                let mut record = dmarcflow_schemas::aggregate::Record::default();
                let text = &self.buf[..at + end + 9];
                let Some(after) = super::fast::record(text, at + 8, &mut record) else {
                    return false;
                };
                *out = record.into_owned();
                self.pos = after;
                self.after_text = false;
                return true;
            }
            // A record is a few hundred bytes; past a chunk it is no plain one.
            if b.len() - at > CHUNK || !self.refill().unwrap_or(false) {
                return false;
            }
        }
    }
}

/// Appends `bytes` to `out` as UTF-8, invalid bytes replaced, but for a
/// character cut off at the end (left for the next read); how many bytes it
/// took.
fn append_utf8(out: &mut String, bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            out.push_str(text);
            bytes.len()
        }
        Err(e) if e.error_len().is_none() => {
            let valid = &bytes[..e.valid_up_to()];
            out.push_str(std::str::from_utf8(valid).unwrap_or_default());
            valid.len()
        }
        Err(_) => {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.len()
        }
    }
}

fn owned(t: Token<'_>) -> Token<'static> {
    let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
    match t {
        Token::Start {
            raw,
            name_len,
            empty,
        } => Token::Start {
            raw: own(raw),
            name_len,
            empty,
        },
        Token::End { name } => Token::End { name: own(name) },
        Token::Leaf {
            raw,
            name_len,
            value,
            escaped,
        } => Token::Leaf {
            raw: own(raw),
            name_len,
            value: own(value),
            escaped,
        },
        Token::Text(t) => Token::Text(own(t)),
        Token::CData(t) => Token::CData(own(t)),
        Token::Eof => Token::Eof,
    }
}

/// Resolves entity and character references; false in the flag when an
/// unknown entity was kept verbatim.
pub fn unescape(text: Cow<'_, str>) -> (Cow<'_, str>, bool) {
    if find_byte(b'&', text.as_bytes()).is_none() {
        return (text, true);
    }
    let mut out = String::with_capacity(text.len());
    let mut all_known = true;
    let mut rest: &str = &text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let resolved = after.find(';').filter(|&semi| semi <= 12).and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => match name.strip_prefix('#') {
                    Some(hex) if hex.starts_with(['x', 'X']) => u32::from_str_radix(&hex[1..], 16)
                        .ok()
                        .and_then(char::from_u32),
                    Some(dec) => dec.parse().ok().and_then(char::from_u32),
                    None => None,
                },
            };
            c.map(|c| (c, semi))
        });
        match resolved {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                all_known = false;
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (Cow::Owned(out), all_known)
}

/// The value of attribute `key` in the raw inside of a start tag.
pub fn attribute(raw: &str, name_len: usize, key: &str) -> Option<String> {
    let mut rest = &raw[name_len..];
    while let Some(eq) = rest.find('=') {
        let k = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let end = after[1..].find(quote)?;
        let value = &after[1..1 + end];
        if k == key {
            return Some(unescape(Cow::Borrowed(value)).0.into_owned());
        }
        rest = &after[end + 2..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect<'x, S: EventSource<'x>>(mut source: S) -> Vec<Token<'x>> {
        let mut out = Vec::new();
        loop {
            match source.next_token() {
                Ok(Token::Eof) => return out,
                Ok(t) => out.push(t),
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    fn all(text: &str) -> Vec<Token<'_>> {
        collect(SliceSource::new(text))
    }

    fn stream(text: &str) -> Vec<Token<'static>> {
        collect(StreamSource::new(std::io::BufReader::with_capacity(
            7,
            text.as_bytes(),
        )))
    }

    #[test]
    fn tokens() {
        let doc = "<?xml version=\"1.0\"?><!-- c --><a x=\"1>2\">t &amp; u<b/><![CDATA[<z>]]></a >";
        let t = all(doc);
        assert_eq!(
            t,
            vec![
                Token::Start {
                    raw: "a x=\"1>2\"".into(),
                    name_len: 1,
                    empty: false
                },
                Token::Text("t &amp; u".into()),
                Token::Start {
                    raw: "b".into(),
                    name_len: 1,
                    empty: true
                },
                Token::CData("<z>".into()),
                Token::End { name: "a".into() },
            ]
        );
        assert_eq!(stream(doc), t);
    }

    #[test]
    fn literal_angle_and_open_markup() {
        assert_eq!(
            all("a < b"),
            vec![
                Token::Text("a ".into()),
                Token::Text("<".into()),
                Token::Text(" b".into())
            ]
        );
        let mut s = SliceSource::new("<a><b");
        assert!(s.next_token().is_ok());
        assert!(s.next_token().is_err());
    }

    #[test]
    fn entities() {
        assert_eq!(
            unescape("AT&amp;T &#x2713;&#65;".into()).0,
            "AT&T \u{2713}A"
        );
        let (t, ok) = unescape("a &nbsp; b".into());
        assert_eq!(t, "a &nbsp; b");
        assert!(!ok);
        assert!(matches!(unescape("plain".into()).0, Cow::Borrowed(_)));
    }

    #[test]
    fn attributes() {
        let raw = "extension name=\"x &amp; y\" definition='https://d'";
        assert_eq!(attribute(raw, 9, "name").as_deref(), Some("x & y"));
        assert_eq!(
            attribute(raw, 9, "definition").as_deref(),
            Some("https://d")
        );
        assert_eq!(attribute(raw, 9, "missing"), None);
    }
}
