//! Is a report email the reporter's own? Its DKIM signatures verified
//! (`mail-auth`, through the reverse-DNS resolver), then judged against the
//! reporter's domain: the domain of the report's own contact address (an
//! aggregate report's `<email>`, else the email's From). Anyone can mail a
//! "report from Google" to a rua address; only Google can sign it with a
//! key under google.com.
//!
//! A valid signature aligns when its `d=` has the reporter's domain's
//! registrable domain (DMARC's relaxed alignment). Where the email came
//! straight from the reporter's server over SMTP (its address, HELO and
//! MAIL FROM known), SPF is checked too, and an SPF pass for a MAIL FROM
//! domain aligned with the reporter's counts as DMARC does. The verdicts
//! are `dmarcflow_schemas::reporter_auth::Verdict`.

use std::net::IpAddr;

use std::time::Duration;

use dmarcflow_schemas::reporter_auth::Verdict;
use dmarcflow_schemas::{Report, ReporterAuth};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, SpfResult};

use crate::SuffixList;

/// Verifies report emails.
pub struct ReportVerifier {
    authenticator: MessageAuthenticator,
    /// The whole verification of one message.
    timeout: Duration,
}

/// What the signatures of one message came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signatures {
    /// The From header's address.
    pub from: Option<String>,
    /// Each signature: its result (`pass`, `fail`, `neutral`, `temperror`,
    /// `permerror`) and its signing domain.
    pub results: Vec<(&'static str, String)>,
    /// SPF of the MAIL FROM (result and domain), when the SMTP envelope was
    /// known.
    pub spf: Option<(&'static str, String)>,
}

/// The SMTP envelope of a message received from its sender's own server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The connecting address.
    pub peer: IpAddr,
    /// The HELO/EHLO name.
    pub helo: String,
    /// The MAIL FROM address (empty for a bounce).
    pub mail_from: String,
}

impl ReportVerifier {
    pub fn new(resolver: hickory_resolver::TokioResolver, timeout: Duration) -> Self {
        Self {
            authenticator: MessageAuthenticator(resolver),
            timeout,
        }
    }

    /// Verifies every DKIM signature of `raw` (a whole RFC 5322 message).
    /// A message that does not parse has none; a resolver that does not
    /// answer within the timeout makes each signature a `temperror`.
    pub async fn signatures(&self, raw: &[u8], envelope: Option<&Envelope>) -> Signatures {
        let spf = match envelope {
            Some(e) => Some(self.spf(e).await),
            None => None,
        };
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Signatures {
                spf,
                ..Signatures::default()
            };
        };
        let from = Some(message.from().to_owned()).filter(|f| !f.is_empty());
        let verified =
            tokio::time::timeout(self.timeout, self.authenticator.verify_dkim(&message)).await;
        let results = match verified {
            Ok(outputs) => outputs
                .iter()
                .filter_map(|o| {
                    let domain = o.signature()?.d.to_ascii_lowercase();
                    Some((result_text(o.result()), domain))
                })
                .collect(),
            Err(_) => message
                .dkim_headers
                .iter()
                .map(|h| ("temperror", h.header.d.to_ascii_lowercase()))
                .collect(),
        };
        Signatures { from, results, spf }
    }

    /// SPF of the envelope's MAIL FROM (of its HELO name for a bounce).
    async fn spf(&self, e: &Envelope) -> (&'static str, String) {
        let sender = if e.mail_from.is_empty() {
            format!("postmaster@{}", e.helo)
        } else {
            e.mail_from.clone()
        };
        let domain = sender
            .rsplit_once('@')
            .map_or(e.helo.as_str(), |(_, d)| d)
            .to_ascii_lowercase();
        let params = SpfParameters::verify_mail_from(e.peer, &e.helo, "dmarcflow", &sender);
        let result =
            match tokio::time::timeout(self.timeout, self.authenticator.verify_spf(params)).await {
                Ok(output) => match output.result() {
                    SpfResult::Pass => "pass",
                    SpfResult::Fail => "fail",
                    SpfResult::SoftFail => "softfail",
                    SpfResult::Neutral => "neutral",
                    SpfResult::TempError => "temperror",
                    SpfResult::PermError => "permerror",
                    SpfResult::None => "none",
                },
                Err(_) => "temperror",
            };
        (result, domain)
    }
}

fn result_text(result: &DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

/// The domain a report says it comes from: its contact address's, else
/// the email's From.
pub fn reporter_domain(report: &Report<'_>, from: Option<&str>) -> Option<String> {
    let contact = match report {
        Report::Aggregate(r) => Some(r.metadata.email.as_ref()),
        Report::Tlsrpt(r) => r.contact_info.as_deref(),
        Report::Failure(_) => None,
    };
    [contact, from].into_iter().flatten().find_map(|address| {
        let domain = address.trim().trim_start_matches("mailto:");
        let domain = domain.rsplit_once('@')?.1;
        let domain = domain.trim_end_matches('>').trim().to_ascii_lowercase();
        (!domain.is_empty()).then_some(domain)
    })
}

impl Signatures {
    /// The verdict for a report whose reporter's domain is `reporter`.
    pub fn verdict(&self, reporter: Option<&str>, suffixes: &SuffixList) -> ReporterAuth {
        let organisation = |d: &str| suffixes.base_domain(d).unwrap_or_else(|| d.to_owned());
        let reporter = reporter.map(organisation);
        let aligned = |domain: &str| reporter.as_deref() == Some(organisation(domain).as_str());
        let pass = self.results.iter().filter(|(r, _)| *r == "pass");
        // The signature shown: an aligned pass, else any pass, else the
        // first.
        let best = pass
            .clone()
            .find(|(_, d)| aligned(d))
            .or_else(|| pass.clone().next())
            .or_else(|| self.results.first());
        let spf_aligned = matches!(&self.spf, Some(("pass", d)) if aligned(d));
        let verdict = match best {
            Some(("pass", d)) if aligned(d) => Verdict::Aligned,
            _ if spf_aligned => Verdict::Aligned,
            None => Verdict::Unsigned,
            Some(("pass", _)) => Verdict::Unaligned,
            Some(_) => Verdict::Failed,
        };
        ReporterAuth {
            verdict,
            dkim: best.map(|(r, _)| (*r).to_owned()),
            dkim_domain: best.map(|(_, d)| d.clone()),
            spf: self.spf.as_ref().map(|(r, _)| (*r).to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signatures(results: &[(&'static str, &str)]) -> Signatures {
        Signatures {
            from: Some("noreply@mail.example.net".into()),
            results: results.iter().map(|(r, d)| (*r, (*d).to_owned())).collect(),
            spf: None,
        }
    }

    #[test]
    fn verdicts() {
        let psl = SuffixList::Builtin;
        let v = |s: &Signatures, reporter: &str| s.verdict(Some(reporter), &psl);
        let aligned = v(&signatures(&[("pass", "google.com")]), "dmarc.google.com");
        assert_eq!(aligned.verdict, Verdict::Aligned);
        assert_eq!(aligned.dkim_domain.as_deref(), Some("google.com"));
        assert!(aligned.authenticated());
        // A forger signing with their own key.
        let forged = v(&signatures(&[("pass", "forger.example")]), "google.com");
        assert_eq!(forged.verdict, Verdict::Unaligned);
        // The aligned pass is found behind a failing one.
        let two = v(
            &signatures(&[("fail", "google.com"), ("pass", "google.com")]),
            "google.com",
        );
        assert_eq!(two.verdict, Verdict::Aligned);
        let bad = v(&signatures(&[("fail", "google.com")]), "google.com");
        assert_eq!(
            (bad.verdict, bad.dkim.as_deref()),
            (Verdict::Failed, Some("fail"))
        );
        assert_eq!(v(&signatures(&[]), "google.com").verdict, Verdict::Unsigned);
        // Unsigned, but an SPF pass for the reporter's own MAIL FROM domain.
        let mut spf = signatures(&[]);
        spf.spf = Some(("pass", "bounces.google.com".into()));
        let by_spf = v(&spf, "google.com");
        assert_eq!(
            (by_spf.verdict, by_spf.spf.as_deref()),
            (Verdict::Aligned, Some("pass"))
        );
        spf.spf = Some(("pass", "forger.example".into()));
        assert_eq!(v(&spf, "google.com").verdict, Verdict::Unsigned);
    }

    #[test]
    fn the_reporter_is_the_contact_address_else_from() {
        let mut r = dmarcflow_schemas::AggregateReport::empty();
        r.metadata.email = "noreply-dmarc-support@google.com".into();
        let report = Report::Aggregate(r);
        assert_eq!(
            reporter_domain(&report, Some("x@other.example")).as_deref(),
            Some("google.com")
        );
        let failure = Report::Failure(dmarcflow_schemas::FailureReport::new(
            dmarcflow_schemas::failure::FeedbackType::AuthFailure,
        ));
        assert_eq!(
            reporter_domain(&failure, Some("Abuse <abuse@Mail.Example.NET>")).as_deref(),
            Some("mail.example.net")
        );
    }
}
