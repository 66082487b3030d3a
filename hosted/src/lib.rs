//! Hosting, beside the flow (ingest -> parse -> schemas -> bus -> sink ->
//! store; **hosted** serves what domain owners would otherwise run by
//! hand): MTA-STS policies ([`mta_sts`]) served by the HTTPS listener at
//! `mta-sts.<domain>`, with an `id` that follows the policy's content, the
//! mode changed from the command line and kept in the store, and the
//! records to publish; and their certificates from an ACME CA ([`acme`]),
//! renewed before they end, failures kept for the alerts ([`renewals`]).
//!
//! This crate decides what is served; the listener (`ingest`'s HTTPS
//! endpoint, its pages) and the certificates (`listen`'s SNI choice) serve
//! it, wired by the binary.

pub mod acme;
pub mod mta_sts;
pub mod renewals;
pub mod spf;
pub mod zone;

#[derive(Debug, thiserror::Error)]
pub enum HostedError {
    #[error(transparent)]
    Store(#[from] dmarcflow_store::StoreError),
    #[error("{0}")]
    Refused(String),
}
