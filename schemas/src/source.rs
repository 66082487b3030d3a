//! Who a source address is, as enrichment found it (`dmarcflow_enrich`):
//! the object a record's `source` carries once enrichment is configured.
//! Every field is null where unknown; `asn` is a number and `country` an
//! ISO 3166-1 alpha-2 code. `lookup_failed` says reverse DNS did not
//! complete (a timeout, no server answering): `ptr` is empty for that
//! reason, not because the address has none.

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
}
