//! The base (registrable) domain of a host name: the public suffix plus one
//! label, `mail-yw1-f41.google.com` -> `google.com`,
//! `mx.example.co.uk` -> `example.co.uk`.
//!
//! The Public Suffix List is compiled in (the `psl` crate, updated with its
//! releases); a user who needs a newer list points `[enrich]
//! public_suffix_list` at a copy of `public_suffix_list.dat`, read with the
//! list's own rules: normal rules, wildcards (`*.ck`) and exceptions
//! (`!www.ck`), the longest matching rule prevailing, an exception over
//! all, and `*` when nothing matches.

use std::collections::HashSet;
use std::path::Path;

use crate::EnrichError;

#[derive(Debug, Clone, Default)]
pub enum SuffixList {
    /// The list compiled into the `psl` crate.
    #[default]
    Builtin,
    /// A list file read at start.
    Rules(Rules),
}

#[derive(Debug, Clone, Default)]
pub struct Rules {
    normal: HashSet<String>,
    /// `*.x`: held as `x`.
    wildcard: HashSet<String>,
    /// `!x`: held as `x`.
    exception: HashSet<String>,
}

impl SuffixList {
    pub fn open(path: &Path) -> Result<Self, EnrichError> {
        let text = std::fs::read_to_string(path).map_err(|error| EnrichError::Read {
            path: path.display().to_string(),
            error,
        })?;
        Ok(Self::from_text(&text))
    }

    /// A list in the format of `public_suffix_list.dat`: one rule a line,
    /// `//` comments; a rule ends at the first white space.
    pub fn from_text(text: &str) -> Self {
        let mut rules = Rules::default();
        for line in text.lines() {
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            if rule.starts_with("//") {
                continue;
            }
            let rule = rule.to_ascii_lowercase();
            if let Some(rest) = rule.strip_prefix("!") {
                rules.exception.insert(rest.to_owned());
            } else if let Some(rest) = rule.strip_prefix("*.") {
                rules.wildcard.insert(rest.to_owned());
            } else {
                rules.normal.insert(rule);
            }
        }
        Self::Rules(rules)
    }

    /// The base domain of `host` (a PTR name, say), lower case; None for a
    /// public suffix itself, a bare label or something that is not a name.
    pub fn base_domain(&self, host: &str) -> Option<String> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty()
            || host.split('.').any(str::is_empty)
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return None;
        }
        match self {
            Self::Builtin => psl::domain_str(&host).map(str::to_owned),
            Self::Rules(rules) => rules.base_domain(&host),
        }
    }
}

impl Rules {
    fn base_domain(&self, host: &str) -> Option<String> {
        let labels: Vec<&str> = host.split('.').collect();
        let n = labels.len();
        let tail = |i: usize| labels[i..].join(".");
        // How many labels the public suffix has.
        let exception = (0..n).find(|&i| self.exception.contains(&tail(i)));
        let suffix = match exception {
            Some(i) => n - i - 1,
            None => (0..n)
                .find_map(|i| {
                    let wildcard = i + 1 < n && self.wildcard.contains(&tail(i + 1));
                    (self.normal.contains(&tail(i)) || wildcard).then_some(n - i)
                })
                .unwrap_or(1),
        };
        (n > suffix).then(|| tail(n - suffix - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_list() {
        let list = SuffixList::Builtin;
        let base = |h: &str| list.base_domain(h);
        assert_eq!(
            base("mail-yw1-f41.google.com").as_deref(),
            Some("google.com")
        );
        assert_eq!(
            base("A1-2.SMTP-OUT.amazonses.com.").as_deref(),
            Some("amazonses.com")
        );
        assert_eq!(base("mx.example.co.uk").as_deref(), Some("example.co.uk"));
        assert_eq!(base("co.uk"), None);
        assert_eq!(base("localhost"), None);
        assert_eq!(base("bad..name"), None);
        assert_eq!(base("spa ce.example.com"), None);
    }

    #[test]
    fn a_list_file_with_wildcards_and_exceptions() {
        let list = SuffixList::from_text(
            "// a comment\n\ncom\nuk\nco.uk\n*.ck\n!www.ck\nexample.net  trailing words\n",
        );
        let base = |h: &str| list.base_domain(h);
        assert_eq!(base("mail.example.com").as_deref(), Some("example.com"));
        assert_eq!(base("a.b.example.co.uk").as_deref(), Some("example.co.uk"));
        // `*.ck`: every second-level name under ck is a suffix...
        assert_eq!(base("a.b.ck").as_deref(), Some("a.b.ck"));
        assert_eq!(base("b.ck"), None);
        // ...but `!www.ck` makes www.ck registrable.
        assert_eq!(base("mail.www.ck").as_deref(), Some("www.ck"));
        // The first word of a line is its rule: example.net is a suffix.
        assert_eq!(base("x.example.net"), Some("x.example.net".into()));
        // Unlisted TLDs fall back to `*`.
        assert_eq!(base("host.example.test").as_deref(), Some("example.test"));
    }
}
