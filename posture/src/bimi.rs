//! BIMI: the `default._bimi` record, its logo (`l=`, an HTTPS URL of an
//! SVG) and evidence document (`a=`, a mark certificate), and the DMARC
//! enforcement receivers require before they show a logo.

use serde::Serialize;

use crate::dmarc::Dmarc;
use crate::dns::{Dns, Lookup};
use crate::finding::Finding;
use crate::tags::Tags;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bimi {
    pub record: Option<String>,
    pub logo: Option<String>,
    pub authority: Option<String>,
}

pub async fn check(
    dns: &impl Dns,
    domain: &str,
    dmarc: &Dmarc,
    findings: &mut Vec<Finding>,
) -> Bimi {
    let name = format!("default._bimi.{domain}");
    let records: Vec<String> = match dns.txt(&name).await {
        Lookup::Found(texts) => texts
            .into_iter()
            .filter(|t| Tags::opens_with(t, "BIMI1"))
            .collect(),
        Lookup::Absent => Vec::new(),
        Lookup::Failed(why) => {
            findings.push(Finding::warning(
                "bimi.lookup_failed",
                format!("{name} could not be looked up: {why}"),
            ));
            return Bimi::default();
        }
    };
    let record = match records.as_slice() {
        [] => {
            findings.push(Finding::info(
                "bimi.missing",
                format!("{domain} publishes no BIMI record (no logo shown beside its mail)"),
            ));
            return Bimi::default();
        }
        [one] => one.clone(),
        _ => {
            findings.push(Finding::warning(
                "bimi.multiple",
                format!(
                    "{name} has {} BIMI records: receivers use none",
                    records.len()
                ),
            ));
            return Bimi::default();
        }
    };
    let tags = Tags::parse(&record);
    let logo = tags.get("l").filter(|l| !l.is_empty()).map(str::to_owned);
    let authority = tags.get("a").filter(|a| !a.is_empty()).map(str::to_owned);
    match &logo {
        Some(l) if !l.to_ascii_lowercase().starts_with("https://") => {
            findings.push(Finding::warning(
                "bimi.syntax",
                format!("{name}: the logo {l:?} is not an https: URL"),
            ))
        }
        None => findings.push(Finding::warning(
            "bimi.syntax",
            format!("{name}: no logo (l=)"),
        )),
        _ => {}
    }
    if authority.is_none() {
        findings.push(Finding::warning(
            "bimi.no_certificate",
            format!("{name} has no mark certificate (a=): Gmail and Apple Mail show no logo without one"),
        ));
    }
    if !dmarc.enforced() {
        findings.push(Finding::warning(
            "bimi.dmarc_not_enforced",
            format!("{domain} publishes BIMI but its DMARC is not at enforcement (quarantine or reject, pct=100): no receiver shows the logo"),
        ));
    }
    Bimi {
        record: Some(record),
        logo,
        authority,
    }
}
