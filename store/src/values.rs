//! Column values shared by both stores: addresses, days, text of enums.

use std::net::{IpAddr, Ipv6Addr};

/// An address as ClickHouse's FixedString(16): IPv6, or IPv4 mapped into
/// IPv6 (`::ffff:a.b.c.d`), which `IPv6NumToString` prints back as `a.b.c.d`.
/// Text that is not an address gives zeros and is kept verbatim by the
/// caller in a `_text` column.
pub fn ip16(text: &str) -> Option<[u8; 16]> {
    match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_ipv6_mapped().octets()),
        IpAddr::V6(v6) => Some(v6.octets()),
    }
}

/// The address column and its text companion: the text is empty when the
/// address parsed (no need to store it twice).
pub fn ip_columns(text: Option<&str>) -> ([u8; 16], &str) {
    match text {
        None => (Ipv6Addr::UNSPECIFIED.octets(), ""),
        Some(t) => match ip16(t) {
            Some(octets) => (octets, ""),
            None => (Ipv6Addr::UNSPECIFIED.octets(), t),
        },
    }
}

/// Unix seconds as ClickHouse `DateTime` (UInt32), clamped to its range
/// (the report's warnings say so: see `dmarcflow_schemas::storable_time`).
pub fn datetime(seconds: i64) -> u32 {
    dmarcflow_schemas::storable_time::storable(seconds)
}

/// A JSON array of strings (SQLite's arrays).
pub fn json_array<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let v4 = ip16("192.0.2.1");
        assert_eq!(
            v4.map(|o| o[10..].to_vec()),
            Some(vec![0xff, 0xff, 192, 0, 2, 1])
        );
        assert_eq!(ip16("2001:db8::1").map(|o| o[0]), Some(0x20));
        assert_eq!(ip_columns(Some("mail.example")).1, "mail.example");
        assert_eq!(ip_columns(Some("192.0.2.1")).1, "");
        assert_eq!(datetime(-5), 0);
    }
}
