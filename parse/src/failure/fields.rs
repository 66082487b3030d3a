//! Header-style `Name: value` fields (the feedback-report part, returned
//! headers), unfolded, values borrowed unless they spanned lines.

use std::borrow::Cow;

/// The fields of a header block, in order. Stops at the first empty line.
pub(crate) fn header_fields(text: &str) -> Vec<(&str, Cow<'_, str>)> {
    let mut out: Vec<(&str, Cow<'_, str>)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.trim().is_empty() {
            if out.is_empty() {
                continue;
            }
            break;
        }
        if bare.starts_with([' ', '\t']) {
            // A folded continuation of the previous field.
            if let Some((_, value)) = out.last_mut() {
                let v = value.to_mut();
                v.push(' ');
                v.push_str(bare.trim());
            }
            continue;
        }
        if let Some((name, value)) = bare.split_once(':') {
            let name = name.trim();
            if !name.is_empty() && !name.contains([' ', '\t']) {
                out.push((name, Cow::Borrowed(value.trim())));
            }
        }
    }
    out
}

/// The value of the first field named `name` (case-insensitive).
pub(crate) fn first<'t>(fields: &[(&str, Cow<'t, str>)], name: &str) -> Option<Cow<'t, str>> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// `<a@b>` to `a@b`, keeping borrowed text borrowed.
pub(crate) fn strip_angles(value: Cow<'_, str>) -> Cow<'_, str> {
    let trimmed = |s: &str| -> (usize, usize) {
        let t = s.trim();
        let inner = t
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(t);
        let start = inner.as_ptr() as usize - s.as_ptr() as usize;
        (start, start + inner.len())
    };
    match value {
        Cow::Borrowed(s) => {
            let (a, b) = trimmed(s);
            Cow::Borrowed(&s[a..b])
        }
        Cow::Owned(s) => {
            let (a, b) = trimmed(&s);
            Cow::Owned(s[a..b].to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_stops_at_blank_line() {
        let text = "Feedback-Type: auth-failure\r\nAuthentication-Results: mx;\r\n\tdkim=fail\r\nVersion: 1\r\n\r\nBody: no\r\n";
        let f = header_fields(text);
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].1, "mx; dkim=fail");
        assert!(matches!(f[0].1, Cow::Borrowed(_)));
        assert_eq!(first(&f, "version").as_deref(), Some("1"));
    }

    #[test]
    fn angles() {
        assert_eq!(strip_angles(Cow::Borrowed(" <a@b> ")), "a@b");
        assert_eq!(strip_angles(Cow::Owned("a@b".into())), "a@b");
    }
}
