//! MMDB fixtures in each provider's layout, written with a writer library,
//! read back through `NetworkDatabases`. Addresses are from the ranges
//! reserved for documentation (RFC 5737, RFC 3849); the values are made up.

use std::collections::BTreeMap;

use maxminddb_writer::metadata::IpVersion;
use maxminddb_writer::paths::IpAddrWithMask;
use maxminddb_writer::Database;
use serde::Serialize;

use super::*;

fn database<T: Serialize>(kind: &str, v6: bool, entries: &[(&str, T)]) -> Vec<u8> {
    let mut db = Database::default();
    db.metadata.database_type = kind.to_owned();
    db.metadata.binary_format_major_version = 2;
    db.metadata.ip_version = if v6 { IpVersion::V6 } else { IpVersion::V4 };
    for (network, value) in entries {
        let data = db.insert_value(value).unwrap_or_else(|e| panic!("{e:?}"));
        let network: IpAddrWithMask = network.parse().unwrap_or_else(|e| panic!("{e:?}"));
        db.insert_node(network, data);
    }
    db.write_to(Vec::new()).unwrap_or_else(|e| panic!("{e:?}"))
}

#[derive(Serialize)]
struct IpinfoLite {
    network: &'static str,
    country: &'static str,
    country_code: &'static str,
    continent: &'static str,
    continent_code: &'static str,
    asn: &'static str,
    as_name: &'static str,
    as_domain: &'static str,
}

fn ipinfo_lite() -> Vec<u8> {
    database(
        "ipinfo lite.mmdb",
        true,
        &[(
            "2001:db8:100::/48",
            IpinfoLite {
                network: "2001:db8:100::/48",
                country: "Germany",
                country_code: "DE",
                continent: "Europe",
                continent_code: "EU",
                asn: "AS64500",
                as_name: "Example Mail GmbH",
                as_domain: "mail.example",
            },
        )],
    )
}

#[derive(Serialize)]
struct Asn {
    autonomous_system_number: u32,
    autonomous_system_organization: &'static str,
}

#[derive(Serialize)]
struct Geo {
    country: GeoCountry,
    continent: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct GeoCountry {
    iso_code: &'static str,
    geoname_id: u32,
    names: BTreeMap<&'static str, &'static str>,
}

fn geolite_asn() -> Vec<u8> {
    database(
        "GeoLite2-ASN",
        false,
        &[(
            "192.0.2.0/24",
            Asn {
                autonomous_system_number: 64501,
                autonomous_system_organization: "Example Hosting",
            },
        )],
    )
}

fn country(kind: &str, network: &str, iso: &'static str, name: &'static str) -> Vec<u8> {
    database(
        kind,
        false,
        &[(
            network,
            Geo {
                country: GeoCountry {
                    iso_code: iso,
                    geoname_id: 1,
                    names: BTreeMap::from([("en", name)]),
                },
                continent: BTreeMap::from([("code", "EU")]),
            },
        )],
    )
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn ipinfo_lite_gives_every_field() {
    let dbs = NetworkDatabases::from_bytes(vec![ipinfo_lite()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dbs.lookup(ip("2001:db8:100::25")),
        Network {
            asn: Some(64500),
            as_name: Some("Example Mail GmbH".into()),
            as_domain: Some("mail.example".into()),
            country: Some("DE".into()),
        }
    );
    assert_eq!(dbs.lookup(ip("2001:db8:200::1")), Network::default());
}

#[test]
fn geolite2_asn_and_country_files_combine() {
    let dbs = NetworkDatabases::from_bytes(vec![
        geolite_asn(),
        country("GeoLite2-Country", "192.0.2.0/25", "NL", "Netherlands"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        dbs.lookup(ip("192.0.2.10")),
        Network {
            asn: Some(64501),
            as_name: Some("Example Hosting".into()),
            as_domain: None,
            country: Some("NL".into()),
        }
    );
    // In the ASN file only.
    let upper = dbs.lookup(ip("192.0.2.200"));
    assert_eq!((upper.asn, upper.country), (Some(64501), None));
}

#[test]
fn dbip_lite_layouts_read_like_geolite2() {
    let dbs = NetworkDatabases::from_bytes(vec![
        database(
            "DBIP-ASN-Lite (compat=GeoLite2-ASN)",
            false,
            &[(
                "198.51.100.0/24",
                Asn {
                    autonomous_system_number: 64502,
                    autonomous_system_organization: "Example Transit",
                },
            )],
        ),
        country("DBIP-City-Lite", "198.51.100.0/24", "fr", "France"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let found = dbs.lookup(ip("198.51.100.7"));
    assert_eq!(found.asn, Some(64502));
    assert_eq!(found.as_name.as_deref(), Some("Example Transit"));
    assert_eq!(found.country.as_deref(), Some("FR"), "upper-cased");
}

#[test]
fn the_first_file_that_knows_a_field_wins() {
    let dbs = NetworkDatabases::from_bytes(vec![
        country("GeoLite2-Country", "192.0.2.0/24", "SE", "Sweden"),
        country("DBIP-Country-Lite", "192.0.2.0/24", "NO", "Norway"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dbs.lookup(ip("192.0.2.1")).country.as_deref(), Some("SE"));
}

#[test]
fn files_on_disk_and_bad_files() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = dir.path().join("asn.mmdb");
    std::fs::write(&good, geolite_asn()).unwrap_or_else(|e| panic!("{e}"));
    let dbs = NetworkDatabases::open(&[&good]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dbs.lookup(ip("192.0.2.3")).asn, Some(64501));
    assert!(format!("{dbs:?}").contains("GeoLite2-ASN"));

    let bad = dir.path().join("bad.mmdb");
    std::fs::write(&bad, b"not a database").unwrap_or_else(|e| panic!("{e}"));
    let err = NetworkDatabases::open(&[&bad]).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("bad.mmdb"), "{err}");
    assert!(NetworkDatabases::default().lookup(ip("192.0.2.3")) == Network::default());
}

#[test]
fn asn_text_and_country_codes_are_checked() {
    assert_eq!(AsnField::Text("AS15169".into()).number(), Some(15169));
    assert_eq!(AsnField::Text("15169".into()).number(), Some(15169));
    assert_eq!(AsnField::Text("ASx".into()).number(), None);
    assert_eq!(iso_country(" us "), Some("US".into()));
    assert_eq!(iso_country("USA"), None);
    assert_eq!(iso_country("1A"), None);
}
