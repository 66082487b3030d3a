//! The class of a domain's mail from one source, from what its aggregate
//! records say (the policy-evaluated DKIM and SPF, the raw results, the
//! override reasons) and who the source is:
//! - `aligned`: DMARC passed; the next policy step never touches it.
//! - `forwarded`: a forwarder or mailing list resent it: the source is one
//!   (catalogue type `forwarder`), the receiver said so (override reason
//!   `forwarded`, `mailing_list`, `local_policy`), or its DKIM survived
//!   aligned while SPF failed (the signature came along, the relay is not
//!   in the domain's SPF). Shown apart: not the owner's to fix.
//! - `misaligned`: DMARC failed, but a platform (any catalogue type that
//!   sends for customers) or a sender the owner approved authenticated it
//!   for its own domain (DKIM or SPF passed, not aligned): a configuration
//!   to fix before enforcing. An approved sender's failures are always
//!   here, authenticated or not: the owner said it is theirs.
//! - `unauthorised`: failed everything and is no known platform or
//!   approved sender: spoofing, or a sender nobody has told us about.

use serde::Serialize;

use crate::Traffic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceClass {
    Aligned,
    Forwarded,
    Misaligned,
    Unauthorised,
}

impl SourceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aligned => "aligned",
            Self::Forwarded => "forwarded",
            Self::Misaligned => "misaligned",
            Self::Unauthorised => "unauthorised",
        }
    }
}

/// The class of `traffic`, given whether its sender is a platform (by the
/// catalogue's type) and whether the owner approved it.
pub fn classify(traffic: &Traffic, platform: bool, approved: bool) -> SourceClass {
    let passes = traffic.dkim_aligned || traffic.spf_aligned;
    if traffic.kind == "forwarder" || traffic.forwarding_reason {
        return SourceClass::Forwarded;
    }
    if traffic.dkim_aligned && !traffic.spf_aligned && !traffic.spf_pass {
        return SourceClass::Forwarded;
    }
    if passes {
        return SourceClass::Aligned;
    }
    if approved || (platform && (traffic.dkim_pass || traffic.spf_pass)) {
        return SourceClass::Misaligned;
    }
    SourceClass::Unauthorised
}

/// The same classification as SQL over `aggregate_records`, for the
/// places that read the store without this crate (the Grafana dashboard's
/// senders-by-class panel). It knows no approved senders: an approved
/// sender failing everything shows as `unauthorised` there.
pub fn sql(backend: dmarcflow_store::summary::Backend) -> String {
    use dmarcflow_senders::SenderKind;
    let has = |column: &str, value: &str| backend.array_has(column, value);
    let forwarding = crate::traffic::FORWARDING
        .map(|r| has("reason_types", r))
        .join(" OR ");
    let platforms = SenderKind::KNOWN
        .iter()
        .filter(|k| SenderKind::parse(k).is_platform())
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CASE WHEN source_type = 'forwarder' OR {forwarding} THEN 'forwarded' \
         WHEN dkim = 'pass' AND spf != 'pass' AND NOT {spf_pass} THEN 'forwarded' \
         WHEN dkim = 'pass' OR spf = 'pass' THEN 'aligned' \
         WHEN source_type IN ({platforms}) AND ({dkim_pass} OR {spf_pass}) THEN 'misaligned' \
         ELSE 'unauthorised' END",
        spf_pass = has("spf_results", "pass"),
        dkim_pass = has("dkim_results", "pass"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traffic(dkim_aligned: bool, spf_aligned: bool, dkim_pass: bool, spf_pass: bool) -> Traffic {
        Traffic {
            sender: "s".into(),
            kind: "esp".into(),
            dkim_aligned,
            spf_aligned,
            dkim_pass,
            spf_pass,
            ..Traffic::default()
        }
    }

    #[test]
    fn each_class_from_its_evidence() {
        use SourceClass::*;
        // Aligned: DMARC passed through SPF, or both.
        assert_eq!(
            classify(&traffic(false, true, false, true), false, false),
            Aligned
        );
        assert_eq!(
            classify(&traffic(true, true, true, true), false, false),
            Aligned
        );
        // DKIM aligned, SPF failed outright: forwarded.
        assert_eq!(
            classify(&traffic(true, false, true, false), false, false),
            Forwarded
        );
        // DKIM aligned, SPF passing for the platform's own domain: aligned.
        assert_eq!(
            classify(&traffic(true, false, true, true), true, false),
            Aligned
        );
        // A platform passing for its own domain only: misaligned.
        assert_eq!(
            classify(&traffic(false, false, true, true), true, false),
            Misaligned
        );
        // The same from no known platform: unauthorised.
        assert_eq!(
            classify(&traffic(false, false, true, true), false, false),
            Unauthorised
        );
        // Failing everything, approved: misaligned (a blocker); not: unauthorised.
        assert_eq!(
            classify(&traffic(false, false, false, false), false, true),
            Misaligned
        );
        assert_eq!(
            classify(&traffic(false, false, false, false), true, false),
            Unauthorised
        );
        // The receiver says it was forwarded, or the source is a forwarder.
        let mut t = traffic(false, false, false, false);
        t.forwarding_reason = true;
        assert_eq!(classify(&t, false, false), Forwarded);
        let mut t = traffic(false, false, false, false);
        t.kind = "forwarder".into();
        assert_eq!(classify(&t, false, false), Forwarded);
    }
}
