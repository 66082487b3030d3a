//! Reading leaf values: enums, numbers, addresses and ids, each tolerance
//! noted as a warning on the report.

use std::borrow::Cow;
use std::net::IpAddr;

use dmarcflow_schemas::{Match, TextEnum, Warnings};

/// XML white space (space, tab, CR, LF): the only padding a value loses.
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Whether a value starts or ends with XML white space.
pub(crate) fn is_padded(value: &str) -> bool {
    let space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    value.as_bytes().first().is_some_and(space) || value.as_bytes().last().is_some_and(space)
}

/// Trims XML white space from a value, keeping it borrowed.
pub(crate) fn trim<'x>(value: Cow<'x, str>) -> Cow<'x, str> {
    match value {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_matches(is_xml_space)),
        Cow::Owned(s) if s.trim_matches(is_xml_space).len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim_matches(is_xml_space).to_owned()),
    }
}

/// An optional text: empty means absent.
pub(crate) fn text<'x>(value: Cow<'x, str>) -> Option<Cow<'x, str>> {
    Some(value).filter(|v| !v.is_empty())
}

/// Reads an enum leniently; an empty value is absent.
pub(crate) fn enum_value<'x, T: TextEnum<'x>>(
    value: Cow<'x, str>,
    element: &str,
    warnings: &mut Warnings,
) -> Option<T> {
    if value.is_empty() {
        return None;
    }
    let shown = value.clone();
    let (parsed, how) = T::read(value);
    match how {
        Match::Exact => {}
        Match::Folded => warnings.push(format!(
            "non-canonical value {shown:?} in <{element}> read case-insensitively"
        )),
        Match::Alias => warnings.push(format!(
            "non-standard value {shown:?} in <{element}> read as a synonym"
        )),
        Match::Unknown => warnings.push(format!(
            "unknown value {shown:?} in <{element}> kept verbatim"
        )),
    }
    Some(parsed)
}

/// Reads an unsigned integer; `12.0` and `+12` are tolerated, anything else
/// is absent with a warning.
pub(crate) fn unsigned(value: &str, element: &str, warnings: &mut Warnings) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    if let Ok(n) = value.parse::<u64>() {
        return Some(n);
    }
    match value.parse::<f64>() {
        Ok(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => {
            warnings.push(format!(
                "non-integer text {value:?} in <{element}> read as {f}"
            ));
            Some(f as u64)
        }
        _ => {
            warnings.push(format!("unreadable number {value:?} in <{element}>"));
            None
        }
    }
}

/// Reads a timestamp in seconds since the epoch.
pub(crate) fn timestamp(value: &str, element: &str, warnings: &mut Warnings) -> Option<i64> {
    if let Ok(n) = value.parse::<i64>() {
        return Some(n);
    }
    match value.parse::<f64>() {
        Ok(f) if f.is_finite() && f.abs() < 1e15 => {
            warnings.push(format!("non-integer timestamp {value:?} in <{element}>"));
            Some(f as i64)
        }
        _ => {
            warnings.push(format!("unreadable timestamp {value:?} in <{element}>"));
            None
        }
    }
}

/// An IP address in canonical form (borrowed when already canonical); a
/// value that is not an address is kept verbatim with a warning.
pub(crate) fn source_ip<'x>(value: Cow<'x, str>, warnings: &mut Warnings) -> Cow<'x, str> {
    // Rust reads IPv4 only in its canonical dotted form (no leading zeros),
    // so a value that parses as IPv4 is already canonical.
    if value.parse::<std::net::Ipv4Addr>().is_ok() {
        return value;
    }
    // The common IPv6 form, read without the general parser (which tries
    // IPv4 at every group and costs more than the rest of the record).
    if hex_v6(value.as_bytes())
        .is_some_and(|v6| v6.to_ipv4_mapped().is_none() && is_canonical_v6(&v6, &value))
    {
        return value;
    }
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() && is_canonical_v6(&v6, &value) => {
            value
        }
        Ok(ip) => {
            let canonical = match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
                v4 => v4,
            };
            let text = canonical.to_string();
            if text == *value {
                value
            } else {
                Cow::Owned(text)
            }
        }
        Err(_) if value.is_empty() => {
            warnings.push("record without <source_ip>".to_string());
            value
        }
        Err(_) => {
            warnings.push(format!(
                "<source_ip> {value:?} is not an IP address, kept verbatim"
            ));
            value
        }
    }
}

/// An IPv6 address written as hexadecimal groups (with at most one `::`);
/// `None` for anything else, including the forms that end in a dotted IPv4,
/// which the general parser reads.
fn hex_v6(text: &[u8]) -> Option<std::net::Ipv6Addr> {
    /// Reads `a:b:c` into `out`; how many groups (none for an empty part).
    fn groups(part: &[u8], out: &mut [u16]) -> Option<usize> {
        if part.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        for group in part.split(|b| *b == b':') {
            if group.is_empty() || group.len() > 4 || n == out.len() {
                return None;
            }
            let mut value = 0u16;
            for b in group {
                value = value << 4 | char::from(*b).to_digit(16)? as u16;
            }
            out[n] = value;
            n += 1;
        }
        Some(n)
    }
    if text.len() > 39 {
        return None;
    }
    let mut all = [0u16; 8];
    match memchr::memmem::find(text, b"::") {
        None => (groups(text, &mut all)? == 8).then_some(())?,
        Some(gap) => {
            let head = groups(&text[..gap], &mut all[..7])?;
            let mut tail = [0u16; 7];
            let tail_len = groups(&text[gap + 2..], &mut tail)?;
            if head + tail_len > 7 {
                return None;
            }
            all[8 - tail_len..].copy_from_slice(&tail[..tail_len]);
        }
    }
    Some(std::net::Ipv6Addr::from(all))
}

/// Whether `text` is `ip` written as RFC 5952 prescribes (lower case, no
/// leading zeros, the longest run of two or more zero groups as `::`, the
/// first on a tie): what `Ipv6Addr`'s `Display` writes, checked without
/// formatting.
fn is_canonical_v6(ip: &std::net::Ipv6Addr, text: &str) -> bool {
    let groups = ip.segments();
    let (mut best, mut best_len, mut run) = (0, 0, 0);
    for (i, g) in groups.iter().enumerate() {
        run = if *g == 0 { run + 1 } else { 0 };
        if run > best_len {
            (best, best_len) = (i + 1 - run, run);
        }
    }
    let mut out = [0u8; 39];
    let mut n = 0;
    let mut i = 0;
    while i < 8 {
        if best_len >= 2 && i == best {
            let colons: &[u8] = if i == 0 { b"::" } else { b":" };
            out[n..n + colons.len()].copy_from_slice(colons);
            n += colons.len();
            i += best_len;
            continue;
        }
        let g = groups[i];
        let digits = (4 - g.leading_zeros() as usize / 4).max(1);
        for k in (0..digits).rev() {
            out[n] = b"0123456789abcdef"[usize::from((g >> (4 * k)) & 0xf)];
            n += 1;
        }
        if i < 7 {
            out[n] = b':';
            n += 1;
        }
        i += 1;
    }
    &out[..n] == text.as_bytes()
}

/// parsedmarc's report id normalisation: `<` and `>` removed, anything from
/// the first `@` on dropped. Returns the normalised id and whether it changed.
pub(crate) fn report_id<'x>(value: Cow<'x, str>) -> (Cow<'x, str>, bool) {
    let needs = value.contains(['<', '>', '@']);
    if !needs {
        return (value, false);
    }
    let stripped: String = value.chars().filter(|c| *c != '<' && *c != '>').collect();
    let id = stripped
        .split('@')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    (Cow::Owned(id), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmarcflow_schemas::aggregate::{DkimResult, SpfResult};
    use dmarcflow_testkit::Rng;

    #[test]
    fn enums_keep_unknown_values() {
        let mut w = Warnings::default();
        let r: Option<SpfResult> = enum_value("Pass".into(), "result", &mut w);
        assert_eq!(r, Some(SpfResult::Pass));
        let r: Option<SpfResult> = enum_value("hardfail".into(), "result", &mut w);
        assert_eq!(r, Some(SpfResult::Fail));
        let r: Option<DkimResult> = enum_value("weird".into(), "result", &mut w);
        assert_eq!(r, Some(DkimResult::Other("weird".into())));
        let r: Option<DkimResult> = enum_value("".into(), "result", &mut w);
        assert_eq!(r, None);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn ip_canonical() {
        let mut w = Warnings::default();
        assert_eq!(source_ip("2001:DB8:0:0::1".into(), &mut w), "2001:db8::1");
        assert_eq!(source_ip("::ffff:192.0.2.1".into(), &mut w), "192.0.2.1");
        assert!(matches!(
            source_ip("192.0.2.1".into(), &mut w),
            Cow::Borrowed(_)
        ));
        assert!(w.is_empty());
        assert_eq!(source_ip("mail.example".into(), &mut w), "mail.example");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn hex_v6_agrees_with_std() {
        let mut random = Rng::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || random.next().unwrap_or_default();
        let alphabet = b"0123456789abcdefABCDEF:::::.";
        for _ in 0..100_000 {
            let r = next();
            let groups: [u16; 8] = std::array::from_fn(|k| match (r >> (k * 3)) % 3 {
                0 => 0,
                1 => (r >> (k * 7)) as u16 & 0xff,
                _ => (r >> (k * 5)) as u16,
            });
            let ip = std::net::Ipv6Addr::from(groups);
            let full: Vec<String> = groups.iter().map(|g| format!("{g:x}")).collect();
            let mut text = match r % 5 {
                0 => ip.to_string(),
                1 => full.join(":"),
                2 => ip.to_string().to_uppercase(),
                3 => format!("{}::{}", full[..2].join(":"), full[5..].join(":")),
                _ => (0..(r >> 50) % 40)
                    .map(|k| char::from(alphabet[((r >> k) ^ next()) as usize % alphabet.len()]))
                    .collect(),
            };
            if next() % 4 == 0 && !text.is_empty() {
                let at = next() as usize % text.len();
                text.replace_range(at..at + 1, ":");
            }
            let by_std = text.parse::<std::net::Ipv6Addr>().ok();
            let ours = hex_v6(text.as_bytes());
            if ours.is_some() || !text.contains('.') {
                assert_eq!(ours, by_std, "{text:?}");
            }
        }
    }

    #[test]
    fn canonical_v6_check_agrees_with_display() {
        // Zero runs at every position and length, ties, and digit widths.
        for seed in Rng::new(0x9e37_79b9_7f4a_7c15).take(20_000) {
            let mut groups = [0u16; 8];
            for (k, g) in groups.iter_mut().enumerate() {
                let r = (seed >> (k * 8)) as u16;
                *g = match r % 4 {
                    0 | 1 => 0,
                    2 => r >> 12,
                    _ => r.rotate_left(k as u32),
                };
            }
            let ip = std::net::Ipv6Addr::from(groups);
            let shown = ip.to_string();
            if ip.to_ipv4_mapped().is_none() {
                assert!(is_canonical_v6(&ip, &shown), "{shown}");
                assert!(
                    !is_canonical_v6(&ip, &shown.to_uppercase())
                        || !shown.contains(char::is_alphabetic)
                );
            }
        }
        let ip: std::net::Ipv6Addr = "2001:db8::1"
            .parse()
            .unwrap_or(std::net::Ipv6Addr::LOCALHOST);
        assert!(!is_canonical_v6(&ip, "2001:db8:0::1"));
        assert!(!is_canonical_v6(&ip, "2001:0db8::1"));
    }

    #[test]
    fn report_ids_like_parsedmarc() {
        assert_eq!(report_id("<abc@example.com>".into()), ("abc".into(), true));
        assert_eq!(report_id("plain-123".into()), ("plain-123".into(), false));
    }

    #[test]
    fn numbers() {
        let mut w = Warnings::default();
        assert_eq!(unsigned("12", "count", &mut w), Some(12));
        assert_eq!(unsigned("12.0", "count", &mut w), Some(12));
        assert_eq!(unsigned("twelve", "count", &mut w), None);
        assert_eq!(timestamp("1538204542", "begin", &mut w), Some(1538204542));
        assert_eq!(w.len(), 2);
    }
}
