//! Who a source address is, as enrichment found it (`dmarcflow_enrich`):
//! the object a record's `source` carries once enrichment is configured.
//! Every field is null where unknown; `asn` is a number and `country` an
//! ISO 3166-1 alpha-2 code. `lookup_failed` says reverse DNS did not
//! complete (a timeout, no server answering): `ptr` is empty for that
//! reason, not because the address has none. `identified_by` says which
//! signal named the sender.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub ip: String,
    pub ptr: Option<String>,
    pub ptr_confirmed: bool,
    pub base_domain: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub as_domain: Option<String>,
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lookup_failed: bool,
    /// Which signal named the sender (`name`, `type`): `ptr` (the PTR
    /// name's base domain), `dkim` (a passing DKIM signature's `d=`),
    /// `envelope` (a passing SPF domain or the envelope sender), `asn` or
    /// `as_domain` (the network, by number or by its own domain), or
    /// `as_name` (no catalogue entry: the network's organisation, type
    /// `network`). Absent while no sender is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified_by: Option<String>,
}
