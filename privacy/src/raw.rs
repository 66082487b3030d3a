//! Raw copies: the dead-letter topic and file and the raw archive keep a
//! whole input, and a failure-report email holds somebody's message. Under
//! `encrypt` it is sealed whole (armoured age: `age -d` gives back the
//! exact bytes); under `redact` there is no key to seal with, so the copy
//! is replaced by a line saying what was withheld (the reason and origin
//! travel beside it as before); so is a copy that could not be sealed,
//! with the reason. Other inputs (aggregate and TLS reports,
//! which carry no message) pass unchanged.

use std::borrow::Cow;

use crate::{Mode, Privacy};

/// What marks an input that may hold somebody's message (any case): an
/// ARF part (`message/feedback-report`, `report-type=feedback-report`), a
/// returned message or its headers (`message/rfc822`,
/// `text/rfc822-headers`), or the words of the text-only failure reports
/// some MTAs send (Exim: "DMARC Forensic Report"). Aggregate and TLS
/// reports carry none of these, so their dead letters stay whole for a
/// replay after a parser fix.
const MESSAGE_MARKS: &[&[u8]] = &[b"feedback-report", b"rfc822", b"forensic", b"dmarc failure"];

/// Whether an input may be a failure report (see [`MESSAGE_MARKS`]).
pub fn is_failure_report(raw: &[u8]) -> bool {
    MESSAGE_MARKS
        .iter()
        .any(|mark| contains_ignoring_case(raw, mark))
}

fn contains_ignoring_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(at) = memchr::memchr2(lower, upper, &haystack[from..]) {
        let at = from + at;
        if haystack.len() - at >= needle.len()
            && haystack[at..at + needle.len()].eq_ignore_ascii_case(needle)
        {
            return true;
        }
        from = at + 1;
    }
    false
}

impl Privacy {
    /// What may be kept of a raw input (see the module doc).
    pub fn raw_copy<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        if self.mode() == Mode::Clear || !is_failure_report(raw) {
            return Cow::Borrowed(raw);
        }
        let why = match self.sealer.as_ref().map(|s| s.seal(raw)) {
            Some(Ok(sealed)) => return Cow::Owned(sealed.into_bytes()),
            Some(Err(e)) => e.to_string(),
            None => format!("[privacy] failure_reports = \"{}\"", self.mode().as_str()),
        };
        Cow::Owned(
            format!(
                "dmarcflow: a failure-report email of {} bytes, withheld ({why})\n",
                raw.len()
            )
            .into_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_arf_in_any_case() {
        assert!(is_failure_report(
            b"Content-Type: multipart/report; report-type=Feedback-Report;"
        ));
        assert!(is_failure_report(b"x MESSAGE/FEEDBACK-REPORT"));
        assert!(!is_failure_report(b"<feedback><report_metadata>"));
        assert!(!is_failure_report(b"feedback-repor"));
        assert!(is_failure_report(
            b"Subject: DMARC Forensic Report for example.com"
        ));
        assert!(is_failure_report(b"Content-Type: text/RFC822-headers"));
        assert!(!is_failure_report(b"Content-Type: application/tlsrpt+gzip"));
    }
}
