//! Hosted MTA-STS (RFC 8461): each configured domain's policy
//! ([`policy`]), its mode as set in the store over the configuration
//! ([`modes`]), the policies to serve ([`served`]) and the records the
//! owner publishes once ([`records`]).

mod config;
pub mod modes;
pub mod policy;
pub mod records;
pub mod served;

pub use config::{DomainPolicy, MtaStsConfig};
pub use policy::{Mode, Policy};

/// Where senders fetch a policy (RFC 8461 3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// The host a domain's policy is served at.
pub fn policy_host(domain: &str) -> String {
    format!("mta-sts.{domain}")
}
