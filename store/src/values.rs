//! Column values shared by both stores: addresses, days, text of enums,
//! the enrichment of a source and the authentication of a report's email.

use std::net::{IpAddr, Ipv6Addr};

use dmarcflow_schemas::{FailureReport, ReporterAuth, Source};

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

/// A source's enrichment as the `source_*` columns: '' and 0 where unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceColumns<'a> {
    pub ptr: &'a str,
    pub ptr_confirmed: u8,
    pub base_domain: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub asn: u32,
    pub as_name: &'a str,
    pub as_domain: &'a str,
    pub country: &'a str,
    pub lookup_failed: u8,
    pub identified_by: &'a str,
}

impl<'a> SourceColumns<'a> {
    pub fn of(source: Option<&'a Source>) -> Self {
        let Some(s) = source else {
            return Self::default();
        };
        let text = |v: &'a Option<String>| v.as_deref().unwrap_or("");
        Self {
            ptr: text(&s.ptr),
            ptr_confirmed: u8::from(s.ptr_confirmed),
            base_domain: text(&s.base_domain),
            name: text(&s.name),
            kind: text(&s.kind),
            asn: s.asn.unwrap_or(0),
            as_name: text(&s.as_name),
            as_domain: text(&s.as_domain),
            country: text(&s.country),
            lookup_failed: u8::from(s.lookup_failed),
            identified_by: text(&s.identified_by),
        }
    }
}

/// A report email's verification as the `reporter_*` columns: all empty
/// when it was not checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReporterColumns<'a> {
    pub auth: &'a str,
    pub dkim: &'a str,
    pub dkim_domain: &'a str,
    pub spf: &'a str,
    pub authenticated: u8,
}

impl<'a> ReporterColumns<'a> {
    pub fn of(auth: Option<&'a ReporterAuth>) -> Self {
        let Some(a) = auth else {
            return Self::default();
        };
        Self {
            auth: a.verdict.as_str(),
            dkim: a.dkim.as_deref().unwrap_or(""),
            dkim_domain: a.dkim_domain.as_deref().unwrap_or(""),
            spf: a.spf.as_deref().unwrap_or(""),
            authenticated: u8::from(a.authenticated()),
        }
    }
}

/// The day a failure report is filed under: Arrival-Date, else the
/// report's Date, else when it was ingested.
pub fn failure_arrival(r: &FailureReport<'_>, ingested_at: i64) -> i64 {
    r.arrival_timestamp.or(r.report_date).unwrap_or(ingested_at)
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
