//! What a domain owner publishes once to have dmarcflow host their
//! MTA-STS: the policy host, the `_mta-sts` record with the served
//! policy's id, and the TLS-RPT record naming this service, in zone-file
//! form.

use super::served::Served;
use super::{policy_host, MtaStsConfig};

pub fn records(served: &Served, config: &MtaStsConfig) -> Vec<String> {
    let domain = &served.domain;
    let mut out = vec![match &config.cname_target {
        Some(target) => format!(
            "{}. CNAME {}.",
            policy_host(domain),
            target.trim_end_matches('.')
        ),
        None => format!(
            "; {}: A and AAAA records with this service's HTTPS addresses",
            policy_host(domain)
        ),
    }];
    if let Some(zone) = &config.zone {
        // Delegated once: the hosted zone follows every change.
        let zone = zone.trim_end_matches('.');
        out.push(format!(
            "_mta-sts.{domain}. CNAME {domain}._mta-sts.{zone}."
        ));
        if config.tlsrpt_rua.is_some() {
            out.push(format!(
                "_smtp._tls.{domain}. CNAME {domain}._smtp._tls.{zone}."
            ));
        }
        return out;
    }
    out.push(format!(
        "_mta-sts.{domain}. TXT \"v=STSv1; id={}\"",
        served.policy.id()
    ));
    out.push(match &config.tlsrpt_rua {
        Some(rua) => format!("_smtp._tls.{domain}. TXT \"v=TLSRPTv1; rua={rua}\""),
        None => format!(
            "; _smtp._tls.{domain}: TXT \"v=TLSRPTv1; rua=...\" naming this service's TLS-RPT endpoint ([mta_sts] tlsrpt_rua)"
        ),
    });
    out
}

/// The hosted zone's TXT records for `served` (names relative to the
/// zone): each domain's `_mta-sts` record with the served policy's id, and
/// its `_smtp._tls` record.
pub fn zone_records<'a>(
    served: impl IntoIterator<Item = &'a Served>,
    config: &MtaStsConfig,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in served {
        out.push((
            format!("{}._mta-sts", s.domain),
            format!("v=STSv1; id={}", s.policy.id()),
        ));
        if let Some(rua) = &config.tlsrpt_rua {
            out.push((
                format!("{}._smtp._tls", s.domain),
                format!("v=TLSRPTv1; rua={rua}"),
            ));
        }
    }
    out
}
