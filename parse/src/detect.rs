//! Kind detection by magic bytes: what a blob of bytes is, before anything
//! else (content type, file name) is trusted.

/// What a blob of bytes looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gzip,
    Zip,
    Zlib,
    /// XML text (an aggregate report, or something else in XML).
    Xml,
    /// JSON text (a TLS report).
    Json,
    /// An email message (headers, then a body).
    Email,
    /// Base64 text, possibly wrapping any of the above.
    Base64,
    Unknown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zip => "zip",
            Self::Zlib => "zlib",
            Self::Xml => "xml",
            Self::Json => "json",
            Self::Email => "email",
            Self::Base64 => "base64",
            Self::Unknown => "unknown",
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The bytes after a UTF-8 byte order mark and leading white space.
pub fn trim_start(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// Decides what `bytes` are from their first bytes alone.
pub fn sniff(bytes: &[u8]) -> Format {
    match bytes {
        [0x1f, 0x8b, ..] => return Format::Gzip,
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => return Format::Zip,
        [0x78, second, ..] if (0x7800u16 | u16::from(*second)).is_multiple_of(31) => {
            return Format::Zlib
        }
        _ => {}
    }
    let text = trim_start(bytes);
    match text.first() {
        Some(b'<') => Format::Xml,
        Some(b'{') | Some(b'[') => Format::Json,
        Some(_) if looks_like_email(text) => Format::Email,
        Some(_) if looks_like_base64(text) => Format::Base64,
        _ => Format::Unknown,
    }
}

/// An mbox `From ` line, or a first line that is an RFC 5322 header field.
fn looks_like_email(text: &[u8]) -> bool {
    if text.starts_with(b"From ") {
        return true;
    }
    let line_end = memchr::memchr(b'\n', text).unwrap_or(text.len());
    let line = &text[..line_end];
    match memchr::memchr(b':', line) {
        Some(colon) if colon > 0 => line[..colon]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'),
        _ => false,
    }
}

/// At least 16 characters of the base64 alphabet (and line breaks) at the start.
fn looks_like_base64(text: &[u8]) -> bool {
    let head = &text[..text.len().min(1024)];
    let body = head.iter().filter(|b| !b.is_ascii_whitespace()).count();
    body >= 16
        && head.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
                || b.is_ascii_whitespace()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_win() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Format::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Format::Zip);
        assert_eq!(sniff(b"\x78\x9c\x01\x02"), Format::Zlib);
        assert_eq!(sniff(b"\x78\x01\x01\x02"), Format::Zlib);
    }

    #[test]
    fn text_formats() {
        assert_eq!(sniff(b"\xEF\xBB\xBF  \r\n<?xml version"), Format::Xml);
        assert_eq!(sniff(b"\n {\"a\":1}"), Format::Json);
        assert_eq!(sniff(b"Return-Path: <a@b>\r\n"), Format::Email);
        assert_eq!(sniff(b"From a@b Sat Jan  3 01:05:34 1996\n"), Format::Email);
        assert_eq!(sniff(b"H4sIAAAAAAAAA+1aW2/bNhR+z38"), Format::Base64);
        assert_eq!(sniff(b"\x00\x01\x02garbage"), Format::Unknown);
        assert_eq!(sniff(b""), Format::Unknown);
    }
}
