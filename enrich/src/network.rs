//! ASN, AS name, AS domain and country of an address, from MMDB files.
//!
//! The three free databases users have each lay their records out their
//! own way, and all three are read:
//! - IPinfo Lite: flat, `asn` as text (`"AS15169"`), `as_name`,
//!   `as_domain`, `country_code` (and `country`, the country's name);
//! - MaxMind GeoLite2-ASN and DB-IP ASN Lite: `autonomous_system_number`,
//!   `autonomous_system_organization`;
//! - MaxMind GeoLite2-Country/City and DB-IP Country/City Lite:
//!   `country.iso_code` (GeoIP2's nested layout).
//!
//! Several files may be configured (an ASN one and a country one, say):
//! each field comes from the first file that has it. A record a file cannot
//! decode contributes nothing; with no file configured every field is
//! empty.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::EnrichError;

/// What the databases say about an address (None: unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub as_domain: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
}

impl Network {
    fn fill(&mut self, fields: Fields<'_>) {
        let asn = fields.asn.as_ref().and_then(AsnField::number);
        self.asn = self.asn.or(asn).or(fields.autonomous_system_number);
        let name = fields.as_name.or(fields.autonomous_system_organization);
        fill_text(&mut self.as_name, name);
        fill_text(&mut self.as_domain, fields.as_domain);
        let nested = match fields.country {
            Some(CountryField::Geo { iso_code }) => iso_code,
            _ => None,
        };
        let country = fields.country_code.or(nested).and_then(|c| iso_country(&c));
        if self.country.is_none() {
            self.country = country;
        }
    }
}

fn fill_text(slot: &mut Option<String>, value: Option<Cow<'_, str>>) {
    if slot.is_none() {
        *slot = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    }
}

/// A two-letter country code, upper case; None for anything else.
fn iso_country(code: &str) -> Option<String> {
    let code = code.trim();
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase())
}

/// Every field any of the three layouts uses.
#[derive(Debug, Default, Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    asn: Option<AsnField<'a>>,
    #[serde(borrow)]
    as_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    as_domain: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country_code: Option<Cow<'a, str>>,
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country: Option<CountryField<'a>>,
}

/// `asn`: text in IPinfo's layout (`"AS15169"`), a number elsewhere.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum AsnField<'a> {
    Number(u32),
    Text(#[serde(borrow)] Cow<'a, str>),
}

impl AsnField<'_> {
    fn number(&self) -> Option<u32> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(t) => {
                let t = t.trim();
                let digits = t
                    .strip_prefix("AS")
                    .or_else(|| t.strip_prefix("as"))
                    .unwrap_or(t);
                digits.parse().ok()
            }
        }
    }
}

/// `country`: a name in IPinfo's layout, GeoIP2's nested record elsewhere.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CountryField<'a> {
    Geo {
        #[serde(borrow)]
        iso_code: Option<Cow<'a, str>>,
    },
    Name(serde::de::IgnoredAny),
}

/// The configured MMDB files, in order.
#[derive(Default)]
pub struct NetworkDatabases {
    readers: Vec<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for NetworkDatabases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<&str> = self
            .readers
            .iter()
            .map(|r| r.metadata().database_type.as_str())
            .collect();
        f.debug_struct("NetworkDatabases")
            .field("databases", &kinds)
            .finish()
    }
}

impl NetworkDatabases {
    /// Reads the files (each read whole into memory).
    pub fn open(paths: &[impl AsRef<Path>]) -> Result<Self, EnrichError> {
        let mut readers = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let reader =
                maxminddb::Reader::open_readfile(path).map_err(|error| EnrichError::Mmdb {
                    path: path.display().to_string(),
                    error,
                })?;
            readers.push(reader);
        }
        Ok(Self { readers })
    }

    /// Databases already in memory (tests, embedding).
    pub fn from_bytes(databases: Vec<Vec<u8>>) -> Result<Self, EnrichError> {
        let readers = databases
            .into_iter()
            .enumerate()
            .map(|(n, bytes)| {
                maxminddb::Reader::from_source(bytes).map_err(|error| EnrichError::Mmdb {
                    path: format!("database #{}", n + 1),
                    error,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { readers })
    }

    pub fn is_empty(&self) -> bool {
        self.readers.is_empty()
    }

    /// What the databases say about `ip`.
    pub fn lookup(&self, ip: IpAddr) -> Network {
        let mut network = Network::default();
        for reader in &self.readers {
            let fields = reader
                .lookup(ip)
                .ok()
                .and_then(|found| found.decode::<Fields<'_>>().ok().flatten());
            if let Some(fields) = fields {
                network.fill(fields);
            }
        }
        network
    }
}

#[cfg(test)]
mod tests;
