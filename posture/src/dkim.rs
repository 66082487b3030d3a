//! DKIM keys (RFC 6376 3.6.1, RFC 8301, RFC 8463): for each selector the
//! domain signs with (seen in its stored reports, or configured), the key
//! record at `<selector>._domainkey.<domain>`: published, its type and
//! size, the testing flag, revoked (`p=` empty).
//!
//! RSA sizes are read from the key itself (its DER, either a
//! SubjectPublicKeyInfo or a bare RSAPublicKey), never from its base64
//! length: a short reader of a few DER headers, bounded by the record's
//! size ([`crate::dns::MAX_TXT_BYTES`]).

use base64::Engine;
use serde::Serialize;

use crate::der::element;
use crate::dns::{Dns, Lookup};
use crate::finding::{Finding, Severity};
use crate::tags::Tags;

/// RFC 8301 3.2: verifiers must not accept RSA keys under 1024 bits.
pub const RSA_MINIMUM: usize = 1024;
/// Under this, a warning: 1024-bit keys are within reach of factoring.
pub const RSA_ADVISED: usize = 2048;

/// Where a selector to check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SelectorSource {
    /// Seen signing in the domain's stored aggregate reports.
    Reports,
    /// Listed in `[posture] dkim_selectors` or on the command line.
    Configured,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DkimKey {
    pub selector: String,
    pub source: SelectorSource,
    pub published: bool,
    pub record: Option<String>,
    /// `rsa` or `ed25519` (`k=`; unknown values kept).
    pub key_type: Option<String>,
    pub bits: Option<usize>,
    pub testing: bool,
    pub revoked: bool,
}

/// Checks each selector's key.
pub async fn check(
    dns: &impl Dns,
    domain: &str,
    selectors: &[(String, SelectorSource)],
    findings: &mut Vec<Finding>,
) -> Vec<DkimKey> {
    let mut keys = Vec::new();
    for (selector, source) in selectors {
        let name = format!("{selector}._domainkey.{domain}");
        let in_use = *source == SelectorSource::Reports;
        let mut key = DkimKey {
            selector: selector.clone(),
            source: *source,
            published: false,
            record: None,
            key_type: None,
            bits: None,
            testing: false,
            revoked: false,
        };
        let records: Vec<String> = match dns.txt(&name).await {
            Lookup::Found(texts) => texts
                .into_iter()
                .filter(|t| {
                    let tags = Tags::parse(t);
                    tags.get("p").is_some() && tags.get("v").is_none_or(|v| v == "DKIM1")
                })
                .collect(),
            Lookup::Absent => Vec::new(),
            Lookup::Failed(why) => {
                findings.push(Finding::warning(
                    "dkim.lookup_failed",
                    format!("{name} could not be looked up: {why}"),
                ));
                keys.push(key);
                continue;
            }
        };
        let Some(record) = records.first() else {
            let severity = if in_use {
                Severity::Critical
            } else {
                Severity::Warning
            };
            let seen = if in_use {
                ", a selector its reports show in use"
            } else {
                ""
            };
            findings.push(Finding::new(
                "dkim.key_missing",
                severity,
                format!("no DKIM key at {name}{seen}: mail signed with it fails DKIM"),
            ));
            keys.push(key);
            continue;
        };
        key.published = true;
        key.record = Some(record.clone());
        read(record, &name, &mut key, findings);
        keys.push(key);
    }
    keys
}

fn read(record: &str, name: &str, key: &mut DkimKey, findings: &mut Vec<Finding>) {
    let tags = Tags::parse(record);
    let kind = tags.get("k").unwrap_or("rsa").to_ascii_lowercase();
    key.key_type = Some(kind.clone());
    key.testing = tags
        .get("t")
        .is_some_and(|t| t.split(':').any(|f| f.trim() == "y"));
    if key.testing {
        findings.push(Finding::warning(
            "dkim.testing",
            format!(
                "{name} is in testing mode (t=y): receivers may treat its signatures as unsigned"
            ),
        ));
    }
    let p: String = tags
        .get("p")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if p.is_empty() {
        key.revoked = true;
        findings.push(Finding::warning(
            "dkim.revoked",
            format!("{name} is revoked (empty p=): mail still signed with it fails DKIM"),
        ));
        return;
    }
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(p.as_bytes()) else {
        findings.push(Finding::critical(
            "dkim.syntax",
            format!("{name}: p= is not base64"),
        ));
        return;
    };
    match kind.as_str() {
        "rsa" => match rsa_bits(&der) {
            Some(bits) => {
                key.bits = Some(bits);
                if bits < RSA_MINIMUM {
                    findings.push(Finding::critical(
                        "dkim.weak_key",
                        format!("{name} is a {bits}-bit RSA key: receivers must reject keys under {RSA_MINIMUM} bits (RFC 8301); publish a {RSA_ADVISED}-bit key"),
                    ));
                } else if bits < RSA_ADVISED {
                    findings.push(Finding::warning(
                        "dkim.weak_key",
                        format!(
                            "{name} is a {bits}-bit RSA key: rotate to a {RSA_ADVISED}-bit key"
                        ),
                    ));
                }
            }
            None => findings.push(Finding::critical(
                "dkim.syntax",
                format!("{name}: p= is not an RSA public key"),
            )),
        },
        "ed25519" => {
            if der.len() == 32 {
                key.bits = Some(256);
            } else {
                findings.push(Finding::critical(
                    "dkim.syntax",
                    format!("{name}: an Ed25519 key is 32 bytes, this one {}", der.len()),
                ));
            }
        }
        other => findings.push(Finding::critical(
            "dkim.syntax",
            format!("{name}: unknown key type k={other}"),
        )),
    }
}

/// The modulus size of an RSA public key in DER: a SubjectPublicKeyInfo
/// (what RFC 6376 publishes) or a bare PKCS#1 RSAPublicKey.
pub fn rsa_bits(der: &[u8]) -> Option<usize> {
    let (tag, body, _) = element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (first, first_body, rest) = element(body)?;
    let modulus = match first {
        // RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }
        0x02 => first_body,
        // SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }
        0x30 => {
            let (bit, bits, _) = element(rest)?;
            if bit != 0x03 || bits.first() != Some(&0) {
                return None;
            }
            let (seq, key, _) = element(&bits[1..])?;
            let (int, n, _) = element(key)?;
            if seq != 0x30 || int != 0x02 {
                return None;
            }
            n
        }
        _ => return None,
    };
    let n: &[u8] = {
        let start = modulus.iter().position(|b| *b != 0)?;
        &modulus[start..]
    };
    Some(n.len() * 8 - n[0].leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::FakeDns;

    /// A SubjectPublicKeyInfo of an RSA key with a `bits`-bit modulus
    /// (its value does not matter to the size).
    fn spki(bits: usize) -> String {
        let mut n = vec![0u8; 1];
        n.push(0x80 | 0x40);
        n.extend(std::iter::repeat_n(0x55u8, bits / 8 - 1));
        let int = der(0x02, &n);
        let e = der(0x02, &[1, 0, 1]);
        let rsa = der(0x30, &[int, e].concat());
        let alg = der(
            0x30,
            &[
                der(0x06, &[42, 134, 72, 134, 247, 13, 1, 1, 1]),
                der(0x05, &[]),
            ]
            .concat(),
        );
        let bit = der(0x03, &[&[0u8][..], &rsa].concat());
        base64::engine::general_purpose::STANDARD.encode(der(0x30, &[alg, bit].concat()))
    }

    fn der(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if body.len() < 0x80 {
            out.push(body.len() as u8);
        } else if body.len() < 0x100 {
            out.extend([0x81, body.len() as u8]);
        } else {
            out.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn key_sizes_flags_and_revocation() {
        let dns = FakeDns::default()
            .with_txt(
                "s2048._domainkey.example.com",
                &format!("v=DKIM1; k=rsa; p={}", spki(2048)),
            )
            .with_txt(
                "s1024._domainkey.example.com",
                &format!("v=DKIM1; t=y; p={}", spki(1024)),
            )
            .with_txt("s512._domainkey.example.com", &format!("p={}", spki(512)))
            .with_txt("old._domainkey.example.com", "v=DKIM1; k=rsa; p=")
            .with_txt(
                "ed._domainkey.example.com",
                "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            );
        let selectors: Vec<(String, SelectorSource)> =
            ["s2048", "s1024", "s512", "old", "ed", "gone"]
                .iter()
                .map(|s| (s.to_string(), SelectorSource::Reports))
                .collect();
        let mut findings = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let keys = rt.block_on(check(&dns, "example.com", &selectors, &mut findings));
        let bits: Vec<Option<usize>> = keys.iter().map(|k| k.bits).collect();
        assert_eq!(
            bits,
            [Some(2048), Some(1024), Some(512), None, Some(256), None]
        );
        assert!(keys[1].testing && keys[3].revoked && !keys[5].published);
        let found: Vec<(&str, Severity)> = findings.iter().map(|f| (f.code, f.severity)).collect();
        assert_eq!(
            found,
            [
                ("dkim.testing", Severity::Warning),
                ("dkim.weak_key", Severity::Warning),
                ("dkim.weak_key", Severity::Critical),
                ("dkim.revoked", Severity::Warning),
                ("dkim.key_missing", Severity::Critical),
            ]
        );
        assert_eq!(rsa_bits(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
