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
