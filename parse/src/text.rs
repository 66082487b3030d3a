//! Text encodings: every XML document reaches the parser as UTF-8, whatever
//! it declared (windows-1252, ISO-8859-1) or broke (invalid bytes).

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use encoding_rs::{Encoding, UTF_8};

use crate::detect::trim_start;

/// The encoding named by an XML declaration at the start of `head`.
pub fn declared_encoding(head: &[u8]) -> Option<&'static Encoding> {
    let head = trim_start(head);
    let decl_end = memchr::memmem::find(&head[..head.len().min(256)], b"?>")?;
    let decl = &head[..decl_end];
    if !decl.starts_with(b"<?xml") {
        return None;
    }
    let at = memchr::memmem::find(decl, b"encoding")?;
    let rest = &decl[at + 8..];
    let quote_at = rest.iter().position(|b| *b == b'"' || *b == b'\'')?;
    let quote = rest[quote_at];
    let value = &rest[quote_at + 1..];
    let end = memchr::memchr(quote, value)?;
    Encoding::for_label(&value[..end])
}

/// Brings a document to UTF-8 without a BOM or leading white space,
/// borrowing when it is already. A document that declares UTF-8 (or none)
/// is only trimmed here: its bytes are checked once, by [`as_utf8`] when it
/// is parsed. Says what it did in `warnings`.
pub(crate) fn to_utf8<'a>(data: Cow<'a, [u8]>, warnings: &mut Vec<String>) -> Cow<'a, [u8]> {
    let declared = declared_encoding(&data).unwrap_or(UTF_8);
    let trimmed_len = trim_start(&data).len();
    if trimmed_len != data.len() && !data.starts_with(b"\xEF\xBB\xBF") {
        warnings.push("white space before the XML declaration".into());
    }
    let start = data.len() - trimmed_len;
    let data = match data {
        Cow::Borrowed(b) => Cow::Borrowed(&b[start..]),
        Cow::Owned(mut v) => {
            v.drain(..start);
            Cow::Owned(v)
        }
    };
    if declared == UTF_8 || (declared.is_ascii_compatible() && data.is_ascii()) {
        return data;
    }
    let (text, had_errors) = declared.decode_without_bom_handling(&data);
    warnings.push(format!(
        "converted from declared encoding {}",
        declared.name()
    ));
    if had_errors {
        warnings.push(format!(
            "bytes invalid in {} replaced with U+FFFD",
            declared.name()
        ));
    }
    Cow::Owned(text.into_owned().into_bytes())
}

/// The text of a document [`to_utf8`] prepared: borrowed when its bytes are
/// valid UTF-8, else with the invalid ones replaced (and a warning).
pub(crate) fn as_utf8<'a>(data: &'a [u8], warnings: &mut Vec<String>) -> Cow<'a, str> {
    match std::str::from_utf8(data) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            warnings.push("invalid UTF-8 bytes replaced with U+FFFD".into());
            Cow::Owned(String::from_utf8_lossy(data).into_owned())
        }
    }
}

/// A reader that transcodes a stream to UTF-8, for documents too large to
/// convert in memory. A document in UTF-8 already passes through untouched
/// but for its BOM (the parser's source replaces any invalid bytes).
pub struct Utf8Reader<R> {
    inner: R,
    passthrough: bool,
    decoder: encoding_rs::Decoder,
    out: Vec<u8>,
    pos: usize,
    done: bool,
    /// Whether anything was replaced or converted.
    pub(crate) replaced: bool,
}

impl<R: BufRead> Utf8Reader<R> {
    pub(crate) fn new(mut inner: R) -> io::Result<Self> {
        let head = inner.fill_buf()?;
        let encoding = declared_encoding(head).unwrap_or(UTF_8);
        let passthrough = encoding == UTF_8;
        if passthrough && head.starts_with(b"\xEF\xBB\xBF") {
            inner.consume(3);
        }
        Ok(Self {
            inner,
            passthrough,
            decoder: encoding.new_decoder_with_bom_removal(),
            out: Vec::with_capacity(64 << 10),
            pos: 0,
            done: false,
            replaced: encoding != UTF_8,
        })
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.done {
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            self.out.resize(input.len() * 3 + 16, 0);
            let (_, read, written, replaced) =
                self.decoder.decode_to_utf8(input, &mut self.out, last);
            self.replaced |= replaced;
            self.out.truncate(written);
            self.inner.consume(read);
            self.done = last;
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Utf8Reader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.passthrough {
            return self.inner.fill_buf();
        }
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        if self.passthrough {
            self.inner.consume(amt);
        } else {
            self.pos += amt;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared() {
        let e = declared_encoding(b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a/>");
        assert_eq!(e.map(|e| e.name()), Some("windows-1252"));
        let e = declared_encoding(b" <?xml version='1.0' encoding='ISO-8859-1' ?>");
        assert_eq!(e.map(|e| e.name()), Some("windows-1252"));
        assert!(declared_encoding(b"<feedback>").is_none());
    }

    #[test]
    fn utf8_is_borrowed() {
        let mut w = Vec::new();
        let out = to_utf8(Cow::Borrowed(b"<a>\xC3\xA9</a>"), &mut w);
        assert!(matches!(out, Cow::Borrowed(_)));
        assert!(matches!(
            as_utf8(&out, &mut w),
            Cow::Borrowed("<a>\u{e9}</a>")
        ));
        assert!(w.is_empty());
    }

    #[test]
    fn windows_1252_converted() {
        let mut w = Vec::new();
        let out = to_utf8(
            Cow::Borrowed(
                b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>caf\xE9 \x93q\x94</a>",
            ),
            &mut w,
        );
        assert!(std::str::from_utf8(&out)
            .unwrap()
            .contains("caf\u{e9} \u{201c}q\u{201d}"));
        assert_eq!(
            w,
            vec!["converted from declared encoding windows-1252".to_string()]
        );
    }

    #[test]
    fn invalid_utf8_replaced() {
        let mut w = Vec::new();
        let out = to_utf8(Cow::Borrowed(b"  <a>bad\x91</a>"), &mut w);
        assert!(matches!(out, Cow::Borrowed(b"<a>bad\x91</a>")));
        assert_eq!(as_utf8(&out, &mut w), "<a>bad\u{FFFD}</a>");
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn stream_transcodes() {
        let src: &[u8] = b"<?xml version=\"1.0\" encoding=\"latin1\"?><a>\xE9</a>";
        let mut r = Utf8Reader::new(src).unwrap();
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert!(s.ends_with("<a>\u{e9}</a>"));
        assert!(r.replaced);
    }
}
