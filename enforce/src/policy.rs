//! The policy a domain publishes, as the newest report of the window saw
//! it, and the one step after it.

use dmarcflow_store::summary::{Backend, Scope};
use dmarcflow_store::{Store, StoreError};
use serde::Serialize;

/// A published DMARC policy (the `p`, `sp`, `np`, `pct` and `t` tags).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub p: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sp: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub np: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pct: Option<u32>,
    /// RFC 9989's `t` (`y`: testing; the policy is not applied).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub testing: String,
}

impl Policy {
    /// Whether the publisher follows RFC 9989 (DMARCbis: `np`, `t`), whose
    /// way to try a policy is `t=y`; else RFC 7489's `pct`.
    pub fn is_rfc9989(&self) -> bool {
        !self.np.is_empty() || !self.testing.is_empty()
    }

    /// Whether the policy is applied in full (no `pct` below 100, no `t=y`).
    fn in_full(&self) -> bool {
        self.pct.is_none_or(|p| p >= 100) && self.testing != "y"
    }

    /// The policy for subdomains (`sp`, else `p`) and for names that do not
    /// exist (`np`, else `sp`).
    fn for_subdomains(&self) -> &str {
        if self.sp.is_empty() {
            &self.p
        } else {
            &self.sp
        }
    }

    fn for_nonexistent(&self) -> &str {
        if self.np.is_empty() {
            self.for_subdomains()
        } else {
            &self.np
        }
    }

    /// Fully enforced: reject everywhere, applied in full.
    pub fn enforced(&self) -> bool {
        self.p == "reject"
            && self.in_full()
            && self.for_subdomains() == "reject"
            && self.for_nonexistent() == "reject"
    }

    /// The one next step (tags to publish), None once enforced.
    pub fn next_step(&self) -> Option<String> {
        let trial = if self.is_rfc9989() { "t=y" } else { "pct=25" };
        let full = if self.is_rfc9989() { "t=n" } else { "pct=100" };
        match self.p.as_str() {
            "quarantine" | "reject" if !self.in_full() => Some(format!("p={}; {full}", self.p)),
            "quarantine" => Some("p=reject".to_owned()),
            "reject" if self.for_subdomains() != "reject" => Some("sp=reject".to_owned()),
            "reject" if self.for_nonexistent() != "reject" => Some("np=reject".to_owned()),
            "reject" => None,
            // none, absent or unknown: the first step.
            _ => Some(format!("p=quarantine; {trial}")),
        }
    }
}

/// The query for the newest policy `scope`'s domain published.
pub fn sql(b: Backend, scope: &Scope) -> String {
    let (start, end) = scope.times(b);
    format!(
        "SELECT {}, {}, {}, {}, {} FROM aggregate_reports WHERE policy_domain = '{domain}' \
         AND date_begin >= {start} AND date_begin < {end} ORDER BY date_begin DESC LIMIT 1",
        b.text_or_empty("p"),
        b.text_or_empty("sp"),
        b.text_or_empty("np"),
        b.text_or_empty("pct"),
        b.text_or_empty("testing"),
        domain = scope.domain,
    )
}

/// The policy in the newest report of `scope` for its domain; the default
/// (nothing known) when there is none.
pub async fn load(store: &Store, scope: &Scope) -> Result<Policy, StoreError> {
    let sql = sql(store.backend(), scope);
    let table = store.query(&sql).await?;
    let Some(row) = table.rows.first() else {
        return Ok(Policy::default());
    };
    let text = |i: usize| row.get(i).cloned().unwrap_or_default();
    Ok(Policy {
        p: text(0),
        sp: text(1),
        np: text(2),
        pct: text(3).parse().ok(),
        testing: text(4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(p: &str, sp: &str, np: &str, pct: Option<u32>, t: &str) -> Policy {
        Policy {
            p: p.into(),
            sp: sp.into(),
            np: np.into(),
            pct,
            testing: t.into(),
        }
    }

    #[test]
    fn one_step_at_a_time() {
        let step = |p: Policy| p.next_step();
        assert_eq!(
            step(policy("none", "", "", None, "")).as_deref(),
            Some("p=quarantine; pct=25")
        );
        assert_eq!(
            step(policy("none", "", "none", None, "")).as_deref(),
            Some("p=quarantine; t=y")
        );
        assert_eq!(
            step(policy("quarantine", "", "", Some(25), "")).as_deref(),
            Some("p=quarantine; pct=100")
        );
        assert_eq!(
            step(policy("quarantine", "", "", None, "y")).as_deref(),
            Some("p=quarantine; t=n")
        );
        assert_eq!(
            step(policy("quarantine", "", "", None, "")).as_deref(),
            Some("p=reject")
        );
        assert_eq!(
            step(policy("reject", "none", "", None, "")).as_deref(),
            Some("sp=reject")
        );
        assert_eq!(
            step(policy("reject", "", "quarantine", None, "n")).as_deref(),
            Some("np=reject")
        );
        assert_eq!(step(policy("reject", "", "", Some(100), "")), None);
        assert!(policy("reject", "", "", None, "").enforced());
        assert!(!policy("reject", "quarantine", "", None, "").enforced());
        assert_eq!(
            step(Policy::default()).as_deref(),
            Some("p=quarantine; pct=25")
        );
    }
}
