//! TLS-RPT (RFC 8460): the `_smtp._tls` record asking senders for SMTP TLS
//! reports, and its `rua` destinations (`mailto:` or `https:`).

use serde::Serialize;

use crate::dns::{Dns, Lookup};
use crate::finding::Finding;
use crate::tags::Tags;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsRpt {
    pub record: Option<String>,
    pub rua: Vec<String>,
}

pub async fn check(dns: &impl Dns, domain: &str, findings: &mut Vec<Finding>) -> TlsRpt {
    let name = format!("_smtp._tls.{domain}");
    let records: Vec<String> = match dns.txt(&name).await {
        Lookup::Found(texts) => texts
            .into_iter()
            .filter(|t| Tags::opens_with(t, "TLSRPTv1"))
            .collect(),
        Lookup::Absent => Vec::new(),
        Lookup::Failed(why) => {
            findings.push(Finding::warning(
                "tlsrpt.lookup_failed",
                format!("{name} could not be looked up: {why}"),
            ));
            return TlsRpt::default();
        }
    };
    let record = match records.as_slice() {
        [] => {
            findings.push(
                Finding::info(
                    "tlsrpt.missing",
                    format!("{domain} asks for no SMTP TLS reports: failures to deliver to it securely go unseen"),
                )
                .fixed_by_txt(&name, &format!("v=TLSRPTv1; rua=mailto:tls-reports@{domain}")),
            );
            return TlsRpt::default();
        }
        [one] => one.clone(),
        _ => {
            findings.push(Finding::critical(
                "tlsrpt.multiple",
                format!(
                    "{name} has {} TLS-RPT records: senders use none",
                    records.len()
                ),
            ));
            return TlsRpt::default();
        }
    };
    let tags = Tags::parse(&record);
    let mut rua = Vec::new();
    let mut bad = Vec::new();
    for uri in tags
        .get("rua")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
    {
        let lower = uri.to_ascii_lowercase();
        if (lower.starts_with("mailto:") && uri.contains('@')) || lower.starts_with("https://") {
            rua.push(uri.to_owned());
        } else if !uri.is_empty() {
            bad.push(uri.to_owned());
        }
    }
    if rua.is_empty() || !bad.is_empty() {
        let what = if bad.is_empty() {
            "no rua".to_owned()
        } else {
            format!("{bad:?} (neither mailto: nor https:)")
        };
        findings.push(Finding::critical(
            "tlsrpt.syntax",
            format!("{name}: {what}"),
        ));
    }
    TlsRpt {
        record: Some(record),
        rua,
    }
}
