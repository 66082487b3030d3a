//! Hosting, beside the flow (ingest -> parse -> schemas -> bus -> sink ->
//! store; **hosted** serves what domain owners would otherwise run by
//! hand): MTA-STS policies ([`mta_sts`]) served by the HTTPS listener at
//! `mta-sts.<domain>`, with an `id` that follows the policy's content, the
//! mode changed from the command line and kept in the store, and the
//! records to publish.
//!
//! This crate decides what is served; the listener (`ingest`'s HTTPS
//! endpoint, its pages) and the certificates (`listen`'s SNI choice) serve
//! it, wired by the binary.

pub mod mta_sts;

#[derive(Debug, thiserror::Error)]
pub enum HostedError {
    #[error(transparent)]
    Store(#[from] dmarcflow_store::StoreError),
    #[error("{0}")]
    Refused(String),
}
