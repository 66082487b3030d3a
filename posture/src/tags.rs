//! The tag-list syntax (`v=DMARC1; p=none`) that DKIM key records
//! (RFC 6376 3.2) lent to DMARC, TLS-RPT, MTA-STS and BIMI records: tags
//! separated by `;`, each `name=value`, whitespace around both ignored.

/// One record's tags in order; a part without `=` is kept as an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    pub tags: Vec<(String, String)>,
    /// Parts that are not `name=value`, as written.
    pub malformed: Vec<String>,
}

impl Tags {
    pub fn parse(text: &str) -> Self {
        let mut tags = Tags::default();
        for part in text.split(';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            match part.split_once('=') {
                Some((name, value)) if !name.trim().is_empty() => tags
                    .tags
                    .push((name.trim().to_ascii_lowercase(), value.trim().to_owned())),
                _ => tags.malformed.push(part.to_owned()),
            }
        }
        tags
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Names given more than once.
    pub fn repeated(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        let mut repeated = Vec::new();
        for (name, _) in &self.tags {
            if !seen.insert(name.as_str()) && !repeated.contains(&name.as_str()) {
                repeated.push(name.as_str());
            }
        }
        repeated
    }

    /// Whether the record opens with `v=<version>` (case-insensitively),
    /// what each of these records must do to be one.
    pub fn opens_with(text: &str, version: &str) -> bool {
        let Some((name, rest)) = text.trim_start().split_once('=') else {
            return false;
        };
        let value = rest.split(';').next().unwrap_or_default().trim();
        name.trim().eq_ignore_ascii_case("v") && value.eq_ignore_ascii_case(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_in_order_with_errors_kept() {
        let tags = Tags::parse(
            " v=DMARC1 ;p = reject; ; bogus; rua=mailto:a@b.example,mailto:c@d.example;p=none",
        );
        assert_eq!(tags.get("p"), Some("reject"));
        assert_eq!(
            tags.get("rua"),
            Some("mailto:a@b.example,mailto:c@d.example")
        );
        assert_eq!(tags.malformed, ["bogus"]);
        assert_eq!(tags.repeated(), ["p"]);
        assert!(Tags::opens_with("v=DMARC1; p=none", "DMARC1"));
        assert!(Tags::opens_with("V = dmarc1", "DMARC1"));
        assert!(!Tags::opens_with("v=spf1 -all", "DMARC1"));
        assert!(!Tags::opens_with("p=none; v=DMARC1", "DMARC1"));
    }
}
