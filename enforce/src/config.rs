//! What the owner says: the senders they approve per domain, and how much
//! of their own mail they accept to lose to the next policy step.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct EnforcementConfig {
    /// The largest share of a domain's messages (0.001 = 0.1%) that may be
    /// the owner's own mail failing DMARC for the domain to be `ready`.
    pub max_lost_share: f64,
    /// Per domain (lower case), the sender names the owner approves
    /// (catalogue names, or the names enrichment gives: any case).
    pub approved_senders: BTreeMap<String, Vec<String>>,
    /// MTA-STS: the days without a TLS failure before `testing` may become
    /// `enforce`...
    pub mta_sts_clean_days: u32,
    /// ... over at least this many sessions reported in them.
    pub mta_sts_min_sessions: u64,
}

impl Default for EnforcementConfig {
    fn default() -> Self {
        Self {
            max_lost_share: 0.001,
            approved_senders: BTreeMap::new(),
            mta_sts_clean_days: 14,
            mta_sts_min_sessions: 1000,
        }
    }
}

impl EnforcementConfig {
    /// Whether the owner of `domain` approves `sender`.
    pub fn approves(&self, domain: &str, sender: &str) -> bool {
        self.approved_senders
            .get(&domain.to_ascii_lowercase())
            .is_some_and(|names| names.iter().any(|n| n.eq_ignore_ascii_case(sender.trim())))
    }
}
