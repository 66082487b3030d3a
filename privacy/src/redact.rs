//! Redaction: what of a failure report's personal fields may stay clear.
//!
//! - An address keeps its domain; its local part becomes the first 16 hex
//!   digits of HMAC-SHA256(secret, lower-cased local part). The same
//!   mailbox groups together across reports and processes sharing the
//!   secret; without the secret, guessing an address and hashing it proves
//!   nothing. Display names are dropped.
//! - Subject, body, the report's own subject and description, DKIM
//!   canonicalised copies and unknown ARF fields are dropped: free text
//!   can name anybody.
//! - Of the returned headers, only the authentication fields are kept
//!   ([`KEPT_HEADERS`]), their addresses hashed, and a DKIM `z=` tag (a copy
//!   of the signed headers, subject included) dropped.

use std::borrow::Cow;

use dmarcflow_schemas::failure::FailureReport;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::PrivacyError;

/// The returned header fields kept by redaction (lower case): they say how
/// the message was authenticated, which is what a failure report is for.
pub const KEPT_HEADERS: &[&str] = &[
    "authentication-results",
    "arc-authentication-results",
    "arc-message-signature",
    "arc-seal",
    "dkim-signature",
    "received-spf",
];

/// Hex digits of the keyed hash kept (64 bits: no two of a domain's
/// mailboxes collide in practice).
const HASH_DIGITS: usize = 16;

pub struct Redactor {
    mac: Hmac<Sha256>,
}

impl Redactor {
    pub fn new(secret: &[u8]) -> Result<Self, PrivacyError> {
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map_err(|e| PrivacyError::SecretKey(e.to_string()))?;
        Ok(Self { mac })
    }

    /// The keyed hash that replaces a local part.
    pub fn hash_local(&self, local: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(local.to_lowercase().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(HASH_DIGITS);
        for b in digest.iter().take(HASH_DIGITS / 2) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// `text` with the local part of every address in it hashed; the rest
    /// (tags, domains, punctuation) as it was.
    pub fn addresses_in(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        for found in addresses(text) {
            out.push_str(&text[copied..found.local.start]);
            out.push_str(&self.hash_local(&text[found.local.clone()]));
            copied = found.local.end;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// Only the addresses of `text` (a From or To header, a mail-from),
    /// hashed and comma-separated; None when it holds none.
    pub fn addresses_only(&self, text: &str) -> Option<String> {
        let all: Vec<String> = addresses(text)
            .map(|a| {
                format!(
                    "{}@{}",
                    self.hash_local(&text[a.local.clone()]),
                    &text[a.domain.clone()]
                )
            })
            .collect();
        (!all.is_empty()).then(|| all.join(", "))
    }

    /// The authentication fields of a returned header block (the body, if
    /// any, dropped), addresses hashed; None when none is there.
    pub fn headers(&self, sample: &str) -> Option<String> {
        let mut kept = String::new();
        for field in header_fields(sample) {
            let name = field.split(':').next().unwrap_or("").trim();
            let name = name.to_ascii_lowercase();
            if !KEPT_HEADERS.contains(&name.as_str()) {
                continue;
            }
            let field = if name.ends_with("signature") {
                Cow::Owned(without_z_tag(field))
            } else {
                Cow::Borrowed(field)
            };
            kept.push_str(&self.addresses_in(&field));
            if !kept.ends_with('\n') {
                kept.push_str("\r\n");
            }
        }
        (!kept.is_empty()).then_some(kept)
    }

    /// Redacts a report's personal fields in place (see the module doc).
    pub fn redact_report(&self, r: &mut FailureReport<'_>) {
        let only = |v: &Option<Cow<'_, str>>| v.as_deref().and_then(|t| self.addresses_only(t));
        r.original_mail_from = only(&r.original_mail_from).map(Cow::Owned);
        r.original_rcpt_to = r
            .original_rcpt_to
            .iter()
            .filter_map(|t| self.addresses_only(t).map(Cow::Owned))
            .collect();
        r.original_from = only(&r.original_from).map(Cow::Owned);
        r.original_to = only(&r.original_to).map(Cow::Owned);
        r.original_message_id = r
            .original_message_id
            .as_deref()
            .map(|t| Cow::Owned(self.addresses_in(t)));
        r.dkim_identity = r
            .dkim_identity
            .as_deref()
            .map(|t| Cow::Owned(self.addresses_in(t)));
        for list in [&mut r.authentication_results, &mut r.reported_uri] {
            for value in list.iter_mut() {
                *value = Cow::Owned(self.addresses_in(value));
            }
        }
        r.sample = r
            .sample
            .as_deref()
            .and_then(|s| self.headers(s))
            .map(Cow::Owned);
        r.original_envelope_id = None;
        r.original_subject = None;
        r.report_subject = None;
        r.description = None;
        r.dkim_canonicalized_header = None;
        r.dkim_canonicalized_body = None;
        r.other_fields.clear();
    }
}

/// Where an address lies in a text.
struct Found {
    local: std::ops::Range<usize>,
    domain: std::ops::Range<usize>,
}

/// Every `local@domain` in `text`, in order. A local part runs back from
/// the `@` over atext and dots (RFC 5322) but stops at `=`, so that
/// `smtp.mailfrom=alice@example.com` hashes `alice` and an SRS address
/// hashes its last part; a quoted local part is taken whole. Bytes past
/// ASCII count as letters (internationalised addresses).
fn addresses(text: &str) -> impl Iterator<Item = Found> + '_ {
    let bytes = text.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || loop {
        // Nothing before `floor` (the end of the last address) is taken again.
        let floor = from;
        let at = from + memchr::memchr(b'@', &bytes[from..])?;
        from = at + 1;
        let start = if at > floor && bytes[at - 1] == b'"' {
            match memchr::memrchr(b'"', &bytes[floor..at - 1]) {
                Some(open) => floor + open,
                None => continue,
            }
        } else {
            let mut start = at;
            while start > floor && in_local(bytes[start - 1]) {
                start -= 1;
            }
            start
        };
        let mut end = at + 1;
        while end < bytes.len() && in_domain(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        if start == at || end == at + 1 {
            continue;
        }
        from = end;
        return Some(Found {
            local: start..at,
            domain: at + 1..end,
        });
    })
}

fn in_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%&'*+-/?^_`{|}~.".contains(&b)
}

fn in_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'-' || b == b'.'
}

/// The header fields of a message (each with its folded lines), up to the
/// first empty line.
fn header_fields(message: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in message.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        let continuation = line.starts_with([' ', '\t']);
        if bare.is_empty() || !continuation {
            if let Some(s) = start.take() {
                fields.push(&message[s..offset]);
            }
            if bare.is_empty() {
                return fields;
            }
            if bare.contains(':') {
                start = Some(offset);
            }
        }
        offset += line.len();
    }
    if let Some(s) = start {
        fields.push(&message[s..]);
    }
    fields
}

/// A signature field without its `z=` tag (copied header fields).
fn without_z_tag(field: &str) -> String {
    let Some((name, value)) = field.split_once(':') else {
        return field.to_owned();
    };
    let tags: Vec<&str> = value
        .split(';')
        .filter(|tag| !tag.trim_start().starts_with("z="))
        .collect();
    format!("{name}:{}", tags.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secret: &str) -> Result<Redactor, PrivacyError> {
        Redactor::new(secret.as_bytes())
    }

    #[test]
    fn the_same_address_hashes_the_same_and_another_secret_differently() -> Result<(), PrivacyError>
    {
        let a = redactor("one secret of sixteen bytes")?;
        let b = redactor("another secret, also long")?;
        let first = a.addresses_only("Alice <Alice.Liddell@example.com>");
        assert_eq!(first, a.addresses_only("alice.liddell@example.com"));
        assert_ne!(first, b.addresses_only("alice.liddell@example.com"));
        let first = first.unwrap_or_default();
        assert!(first.ends_with("@example.com") && !first.contains("lice"));
        assert_eq!(first.len(), HASH_DIGITS + "@example.com".len());
        Ok(())
    }

    #[test]
    fn addresses_in_text_keep_their_context() -> Result<(), PrivacyError> {
        let r = redactor("0123456789abcdef")?;
        let hash = r.hash_local("bob");
        assert_eq!(
            r.addresses_in("mx.example; spf=fail smtp.mailfrom=bob@example.org; dkim=none"),
            format!("mx.example; spf=fail smtp.mailfrom={hash}@example.org; dkim=none")
        );
        assert_eq!(r.addresses_in("i=@example.org"), "i=@example.org");
        assert_eq!(r.addresses_in("no address @ all"), "no address @ all");
        let quoted = r.addresses_in("\"john doe\"@example.org.");
        assert_eq!(
            quoted,
            format!("{}@example.org.", r.hash_local("\"john doe\""))
        );
        let srs = r.addresses_in("SRS0=HHH=TT=example.com=carol@forwarder.example");
        assert_eq!(
            srs,
            format!(
                "SRS0=HHH=TT=example.com={}@forwarder.example",
                r.hash_local("carol")
            )
        );
        assert_eq!(r.addresses_only("undisclosed-recipients:;"), None);
        let chained = r.addresses_in("a@b@c.example");
        assert_eq!(chained, format!("{}@b@c.example", r.hash_local("a")));
        Ok(())
    }

    #[test]
    fn only_authentication_headers_stay() -> Result<(), PrivacyError> {
        let r = redactor("0123456789abcdef")?;
        let sample = "Received: from a by b for <dan@example.net>\r\n\
            Authentication-Results: mx.example;\r\n dkim=fail header.i=@example.com;\r\n spf=fail smtp.mailfrom=dan@example.net\r\n\
            Subject: Secret plans\r\n\
            DKIM-Signature: v=1; d=example.com; s=sel; z=Subject:Secret=20plans; b=abc\r\n\
            From: Dan <dan@example.net>\r\n\
            \r\n\
            The body.\r\n";
        let kept = r.headers(sample).unwrap_or_default();
        assert!(kept.starts_with("Authentication-Results: mx.example;\r\n dkim=fail"));
        assert!(kept.contains("DKIM-Signature: v=1; d=example.com; s=sel; b=abc"));
        for gone in ["Secret", "Received", "From:", "dan@", "body"] {
            assert!(!kept.contains(gone), "{gone} kept in {kept:?}");
        }
        assert!(kept.contains(&format!(
            "smtp.mailfrom={}@example.net",
            r.hash_local("dan")
        )));
        assert_eq!(r.headers("Subject: x\n\nbody"), None);
        Ok(())
    }
}
