//! The little DER this crate reads: an element's tag and contents (for a
//! DKIM key's modulus) and an X.509 certificate's validity (for an MX
//! host's expiry). Both read published or served bytes, so every length is
//! checked against what is there and anything unexpected is `None`.

/// One DER element: (tag, contents, what follows).
pub fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// A certificate's `notBefore` and `notAfter`, in Unix seconds.
///
/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
/// OPTIONAL, serialNumber, signature, issuer, validity SEQUENCE {
/// notBefore, notAfter }, ... }, ... } (RFC 5280 4.1).
pub fn validity(certificate: &[u8]) -> Option<(i64, i64)> {
    let (0x30, cert, _) = element(certificate)? else {
        return None;
    };
    let (0x30, tbs, _) = element(cert)? else {
        return None;
    };
    let (tag, _, mut rest) = element(tbs)?;
    if tag == 0xa0 {
        rest = element(rest)?.2; // the serial number follows the version
    }
    let rest = element(rest)?.2; // signature algorithm
    let rest = element(rest)?.2; // issuer
    let (0x30, validity, _) = element(rest)? else {
        return None;
    };
    let (before_tag, before, rest) = element(validity)?;
    let (after_tag, after, _) = element(rest)?;
    Some((time(before_tag, before)?, time(after_tag, after)?))
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950-2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`), as RFC 5280 4.1.2.5 restricts them.
fn time(tag: u8, text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let text = text.strip_suffix('Z')?;
    let (year, rest) = match (tag, text.len()) {
        (0x17, 12) => {
            let yy: i64 = text[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        (0x18, 14) => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |i: usize| rest[i..i + 2].parse::<i64>().ok();
    let (month, day, hour, minute, second) =
        (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(
        crate::date::days_from_civil(year, month, day) * 86_400
            + hour * 3600
            + minute * 60
            + second,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag, body.len() as u8];
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_both_time_forms_and_rejects_the_rest() {
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x17, b"261205103000Z"), Some(1_796_466_600));
        assert_eq!(time(0x18, b"20261205103000Z"), Some(1_796_466_600));
        assert_eq!(time(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(0x17, b"261305103000Z"), None);
        assert_eq!(time(0x17, b"2612051030Z"), None);
        assert_eq!(time(0x18, b"20261205103000+0100"), None);
        assert_eq!(time(0x17, "26120510300é".as_bytes()), None);
    }

    #[test]
    fn finds_the_validity_after_an_optional_version() {
        let validity = der(
            0x30,
            &[der(0x17, b"250101000000Z"), der(0x18, b"20270101000000Z")].concat(),
        );
        let fields = |version: bool| {
            let mut tbs = Vec::new();
            if version {
                tbs.extend(der(0xa0, &der(0x02, &[2])));
            }
            tbs.extend(der(0x02, &[7]));
            tbs.extend(der(0x30, &der(0x06, &[1, 2])));
            tbs.extend(der(0x30, &[]));
            tbs.extend(validity.clone());
            der(0x30, &der(0x30, &tbs))
        };
        let expected = Some((1_735_689_600, 1_798_761_600));
        assert_eq!(validity_of(&fields(true)), expected);
        assert_eq!(validity_of(&fields(false)), expected);
        assert_eq!(validity_of(&fields(true)[..20]), None);
        assert_eq!(validity_of(b"not a certificate"), None);
    }

    fn validity_of(bytes: &[u8]) -> Option<(i64, i64)> {
        validity(bytes)
    }
}
