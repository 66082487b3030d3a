//! BIMI: the `default._bimi` record, its logo (`l=`, an HTTPS URL of an
//! SVG, fetched as receivers do and held to the SVG Tiny PS basics,
//! [`crate::svg`]) and evidence document (`a=`, a mark certificate), and
//! the DMARC enforcement receivers require before they show a logo.

use serde::Serialize;

use crate::dmarc::Dmarc;
use crate::dns::{Dns, Lookup};
use crate::finding::Finding;
use crate::https::{FetchError, Https};
use crate::tags::Tags;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bimi {
    pub record: Option<String>,
    pub logo: Option<String>,
    pub authority: Option<String>,
    /// The logo's size in bytes, when fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_bytes: Option<usize>,
    /// What keeps the logo from the SVG Tiny PS profile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logo_problems: Vec<String>,
}

pub async fn check(
    dns: &impl Dns,
    https: &Https,
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
    let mut bimi = Bimi {
        record: Some(record),
        logo,
        authority,
        ..Bimi::default()
    };
    if let Some(url) = bimi.logo.clone() {
        if let Some((host, path)) = split_https_url(&url) {
            fetch_logo(dns, https, &url, host, path, &mut bimi, findings).await;
        }
    }
    bimi
}

/// `https://host[:port]/path` as (host, path); the port is the fetcher's
/// (443), and a URL with credentials is not fetched.
fn split_https_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .get(..8)?
        .eq_ignore_ascii_case("https://")
        .then(|| &url[8..])?;
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], &rest[i..]),
        Some(i) => (&rest[..i], "/"),
        None => (rest, "/"),
    };
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    let host = authority.split(':').next()?;
    Some((host, path.split('#').next().unwrap_or(path)))
}

async fn fetch_logo(
    dns: &impl Dns,
    https: &Https,
    url: &str,
    host: &str,
    path: &str,
    bimi: &mut Bimi,
    findings: &mut Vec<Finding>,
) {
    let fetched = match https.get(dns, host, path).await {
        Ok(f) if f.status == 200 => f,
        Ok(f) => {
            findings.push(Finding::warning(
                "bimi.logo_unreachable",
                format!(
                    "the logo {url} answered HTTP status {}{}",
                    f.status,
                    f.location
                        .map(|l| format!(" (a redirect to {l})"))
                        .unwrap_or_default()
                ),
            ));
            return;
        }
        Err(e) => {
            let why = match e {
                FetchError::TooLarge(n) => format!("it is over {n} bytes"),
                other => other.to_string(),
            };
            findings.push(Finding::warning(
                "bimi.logo_unreachable",
                format!("the logo {url} could not be fetched: {why}"),
            ));
            return;
        }
    };
    bimi.logo_bytes = Some(fetched.body.len());
    let media = fetched
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    let mut problems = Vec::new();
    if media.as_deref() != Some("image/svg+xml") {
        problems.push(format!(
            "served as {:?}, not image/svg+xml",
            fetched.content_type.as_deref().unwrap_or("(no type)")
        ));
    }
    if std::str::from_utf8(&fetched.body).is_err() {
        problems.push("not text (an SVG is UTF-8 XML)".to_owned());
    } else {
        problems.extend(crate::svg::profile_problems(&fetched.body));
    }
    if !problems.is_empty() {
        findings.push(Finding::warning(
            "bimi.logo_invalid",
            format!(
                "the logo {url} is not an SVG Tiny PS image receivers show: {}",
                problems.join("; ")
            ),
        ));
    }
    bimi.logo_problems = problems;
}
