//! RFC 3339 date-times to seconds since the epoch, without a calendar crate.

/// Reads `2016-04-01T00:00:00Z`, with optional fraction and a `Z` or
/// `+hh:mm` offset (a space for `T` and a missing zone are tolerated).
pub fn rfc3339_to_epoch(text: &str) -> Option<i64> {
    let t = text.trim().as_bytes();
    if t.len() < 19 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(t.get(range)?).ok()?;
        s.parse().ok()
    };
    if t[4] != b'-'
        || t[7] != b'-'
        || !matches!(t[10], b'T' | b't' | b' ')
        || t[13] != b':'
        || t[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = i64::from((*h1 as char).to_digit(10)? * 10 + (*h2 as char).to_digit(10)?);
            let m = i64::from((*m1 as char).to_digit(10)? * 10 + (*m2 as char).to_digit(10)?);
            let secs = h * 3600 + m * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

pub use dmarcflow_schemas::storable_time::days_from_civil;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339() {
        assert_eq!(
            rfc3339_to_epoch("2016-04-01T00:00:00Z"),
            Some(1_459_468_800)
        );
        assert_eq!(
            rfc3339_to_epoch("2016-04-01T23:59:59Z"),
            Some(1_459_555_199)
        );
        assert_eq!(
            rfc3339_to_epoch("2020-03-02T01:00:00.123+01:00"),
            Some(1_583_107_200)
        );
        assert_eq!(rfc3339_to_epoch("1970-01-01 00:00:00"), Some(0));
        assert_eq!(rfc3339_to_epoch("yesterday"), None);
        assert_eq!(rfc3339_to_epoch("2016-13-01T00:00:00Z"), None);
    }
}
