//! Failure-report privacy, between parse and bus: what a DMARC failure
//! report may carry once it leaves ingest.
//!
//! A failure report (ruf) holds a copy of somebody's message: addresses,
//! subject, headers, often the body. `ingest` hands every report it parses
//! to [`Privacy::protect`] before the report is published, so the Kafka
//! topics, the stores and their backups hold only what the configured mode
//! lets through; the raw copies of a failure-report email (the dead-letter
//! topic and file, the raw archive) go through [`Privacy::raw_copy`].
//!
//! The modes (`[privacy] failure_reports`):
//! - `redact`: local parts become a keyed hash ([`redact`]), so one
//!   address groups across reports and cannot be recovered by guessing
//!   without the secret; subject, body, descriptions and every header field
//!   but the authentication ones are dropped;
//! - `encrypt`: redacted the same way, and the original personal fields
//!   ([`PersonalFields`]) sealed together to the owner's age or OpenPGP
//!   keys ([`seal`]), readable with the standard `age` or `gpg` tool;
//! - `clear`: as sent, chosen explicitly.
//!
//! What stays clear in every mode names no person and is what views,
//! alerts and the enforcement analysis read: the reported domain, the
//! source address and its enrichment, the authentication results (with
//! their addresses hashed), failure types, DKIM domain and selector, the
//! SPF domain, dates, the reporter, counts, the report's identity.

mod config;
mod error;
pub mod personal;
pub mod raw;
pub mod redact;
pub mod seal;
mod secret;

use std::sync::Arc;

use dmarcflow_schemas::failure::{FailureReport, Personal};

pub use config::{Mode, PrivacyConfig};
pub use error::PrivacyError;
pub use personal::PersonalFields;
pub use redact::Redactor;
pub use seal::{Identities, Sealer};

/// The configured protection, shared by every source. The mode follows
/// from the keys held: none is `clear`, a redactor alone `redact`, a
/// redactor and a sealer `encrypt`.
#[derive(Clone, Default)]
pub struct Privacy {
    redactor: Option<Arc<Redactor>>,
    sealer: Option<Arc<Sealer>>,
}

impl std::fmt::Debug for Privacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Privacy")
            .field("mode", &self.mode())
            .field("recipients", &self.sealer.as_ref().map_or(0, |s| s.len()))
            .finish()
    }
}

impl Privacy {
    /// Reports kept as sent: what a library user gets without a
    /// configuration (the binary always resolves `[privacy]`, whose
    /// default is `redact`).
    pub fn clear() -> Self {
        Self::default()
    }

    /// The configured mode: every key and secret read now, so a bad key
    /// stops the command at start (never a fall back to clear text).
    /// `default_secret` is the secret's file when the configuration names
    /// none.
    pub fn open(
        config: &PrivacyConfig,
        default_secret: &std::path::Path,
    ) -> Result<Self, PrivacyError> {
        let mode = config.mode()?;
        if mode == Mode::Clear {
            return Ok(Self::clear());
        }
        let secret_file = config.hash_secret_file.as_deref().unwrap_or(default_secret);
        let redactor = Redactor::new(&secret::load_or_create(secret_file)?)?;
        let sealer = match mode {
            Mode::Encrypt => Some(Sealer::from_recipients(&config.recipients)?),
            _ => None,
        };
        Ok(Self::with_keys(redactor, sealer))
    }

    /// Redaction, and sealing when a sealer is given, with keys in hand.
    pub fn with_keys(redactor: Redactor, sealer: Option<Sealer>) -> Self {
        Self {
            redactor: Some(Arc::new(redactor)),
            sealer: sealer.map(Arc::new),
        }
    }

    pub fn mode(&self) -> Mode {
        match (&self.redactor, &self.sealer) {
            (None, _) => Mode::Clear,
            (Some(_), None) => Mode::Redact,
            (Some(_), Some(_)) => Mode::Encrypt,
        }
    }

    /// Protects one failure report in place; a report already protected
    /// (its `personal` is not `clear`) is left as it is, so applying twice
    /// changes nothing. The report's identity was computed from the
    /// originals before, and stays.
    pub fn protect(&self, report: &mut FailureReport<'_>) -> Result<(), PrivacyError> {
        let Some(redactor) = &self.redactor else {
            return Ok(());
        };
        if report.personal != Personal::Clear {
            return Ok(());
        }
        if let Some(sealer) = &self.sealer {
            let originals = PersonalFields::of(report);
            report.sealed = Some(sealer.seal(&originals.to_json())?.into());
            report.personal = Personal::Sealed;
        } else {
            report.personal = Personal::Redacted;
        }
        redactor.redact_report(report);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;
    use dmarcflow_schemas::failure::FeedbackType;
    use std::borrow::Cow;

    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    fn report() -> FailureReport<'static> {
        let mut r = FailureReport::new(FeedbackType::AuthFailure);
        r.original_mail_from = Some(Cow::Borrowed("zebediah@example.com"));
        r.original_rcpt_to = vec![Cow::Borrowed("quentin@receiver.example")];
        r.original_subject = Some(Cow::Borrowed("Quarterly llama census"));
        r.original_from = Some(Cow::Borrowed("Zebediah <zebediah@example.com>"));
        r.dkim_domain = Some(Cow::Borrowed("example.com"));
        r.source_ip = Some(Cow::Borrowed("192.0.2.7"));
        r.sample = Some(Cow::Borrowed(
            "Subject: Quarterly llama census\r\nAuthentication-Results: mx; spf=fail smtp.mailfrom=zebediah@example.com\r\n\r\nThe wombat body.\r\n",
        ));
        r.id = r.compute_id();
        r
    }

    #[test]
    fn encrypt_seals_the_originals_and_redacts_the_rest() -> Result<()> {
        let key = age::x25519::Identity::generate();
        let dir = tempfile::tempdir()?;
        let identity = dir.path().join("key");
        std::fs::write(&identity, key.to_string().expose_secret())?;
        let sealer = Sealer::from_recipients(&[key.to_public().to_string()])?;
        let privacy = Privacy::with_keys(Redactor::new(b"sixteen bytes at least")?, Some(sealer));
        let original = report();
        let mut r = original.clone();
        privacy.protect(&mut r)?;
        assert_eq!(
            (r.personal, r.id.as_str()),
            (Personal::Sealed, original.id.as_str())
        );
        let json = serde_json::to_string(&r)?;
        for personal in ["zebediah", "quentin", "llama", "wombat"] {
            assert!(!json.contains(personal), "{personal} in {json}");
        }
        assert_eq!(r.dkim_domain.as_deref(), Some("example.com"));
        let plain =
            Identities::from_file(&identity)?.open(r.sealed.as_deref().unwrap_or("").as_bytes())?;
        assert_eq!(
            PersonalFields::from_json(&plain)?,
            PersonalFields::of(&original)
        );
        // Protected once: a second pass changes nothing.
        let again = r.clone();
        privacy.protect(&mut r)?;
        assert_eq!(r, again);
        Ok(())
    }
}
