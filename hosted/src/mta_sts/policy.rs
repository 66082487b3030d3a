//! One MTA-STS policy as served: its text (RFC 8461 3.2: `version`,
//! `mode`, one `mx` line per pattern, `max_age`, CRLF line ends) and the
//! `id` the `_mta-sts` record carries, derived from that text so it
//! changes exactly when the policy does (a sender refetches when the id it
//! cached differs).

use std::fmt;

/// `none`, `testing` or `enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    None,
    Testing,
    Enforce,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Testing => "testing",
            Mode::Enforce => "enforce",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Mode::None),
            "testing" => Some(Mode::Testing),
            "enforce" => Some(Mode::Enforce),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// MX patterns (`mx.example.com`, `*.example.net`).
    pub mx: Vec<String>,
    /// Seconds senders may cache the policy.
    pub max_age: u64,
}

impl Policy {
    /// The policy file's text.
    pub fn text(&self) -> String {
        let mut out = format!("version: STSv1\r\nmode: {}\r\n", self.mode);
        for pattern in &self.mx {
            out.push_str(&format!("mx: {pattern}\r\n"));
        }
        out.push_str(&format!("max_age: {}\r\n", self.max_age));
        out
    }

    /// The `id` of the `_mta-sts` record: 20 hex digits of the SHA-256 of
    /// the text (RFC 8461 3.1 allows 1 to 32 letters and digits).
    pub fn id(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.text().as_bytes());
        digest.as_ref()[..10]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The MX hosts of `hosts` no pattern covers (RFC 8461 4.1).
    pub fn uncovered(&self, hosts: &[String]) -> Vec<String> {
        hosts
            .iter()
            .filter(|h| {
                !self
                    .mx
                    .iter()
                    .any(|p| dmarcflow_posture::mta_sts::covers(p, h))
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_an_id_that_follows_it() {
        let p = Policy {
            mode: Mode::Testing,
            mx: vec!["mx1.example.com".into(), "*.example.net".into()],
            max_age: 604_800,
        };
        assert_eq!(
            p.text(),
            "version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n"
        );
        let id = p.id();
        assert_eq!(id.len(), 20);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, p.clone().id(), "the same policy, the same id");
        let enforced = Policy {
            mode: Mode::Enforce,
            ..p.clone()
        };
        assert_ne!(enforced.id(), id);
        assert_eq!(
            p.uncovered(&[
                "mx1.example.com".into(),
                "a.example.net".into(),
                "mx2.example.com".into()
            ]),
            ["mx2.example.com"]
        );
        assert_eq!(Mode::parse(" Enforce "), Some(Mode::Enforce));
        assert_eq!(Mode::parse("strict"), None);
    }
}
