//! DKIM keys and signatures for tests (feature `dkim`): Ed25519 keys from
//! fixed seeds, so a test can publish a key in a zone it serves and sign
//! mail that verifies against it.

use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;

/// An Ed25519 key from its seed (PKCS#8 v1: a fixed prefix, then the seed).
pub fn key(seed: [u8; 32]) -> Ed25519Key {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    Ed25519Key::from_pkcs8_der(&der).unwrap_or_else(|e| panic!("{e}"))
}

/// The key's DNS record text (`v=DKIM1; k=ed25519; p=...`), for a TXT
/// record at `<selector>._domainkey.<domain>`.
pub fn record(seed: [u8; 32]) -> String {
    let public = base64::engine::general_purpose::STANDARD.encode(key(seed).public_key());
    format!("v=DKIM1; k=ed25519; p={public}")
}

/// `message` (CRLF lines) with a DKIM-Signature by `seed` as `d=domain`,
/// `s=selector` over From, To, Subject, Date and Message-ID.
pub fn sign(message: &[u8], seed: [u8; 32], domain: &str, selector: &str) -> Vec<u8> {
    let signature = mail_auth::dkim::DkimSigner::from_key(key(seed))
        .domain(domain)
        .selector(selector)
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .sign(message)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = signature.to_header().into_bytes();
    out.extend_from_slice(message);
    out
}
