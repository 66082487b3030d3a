//! Certificates for the hosted policy hosts from an ACME CA (RFC 8555,
//! the `instant-acme` crate), answered by TLS-ALPN-01 (RFC 8737) on the
//! HTTPS listener itself: no port 80, no DNS change.
//!
//! Each name's certificate and key are kept in `state_dir` (the key
//! readable by this user only) and served at start; a certificate missing,
//! or past two thirds of its lifetime, is ordered anew and swapped in
//! without a restart. A failed order keeps the old certificate served and
//! is recorded ([`crate::renewals`]) for the alert rule. Bounded: each
//! order's polling gives up after `order_timeout`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dmarcflow_listen::certificates::{certified_key_from_pem, SniCertificates};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::sign::CertifiedKey;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeConfig {
    /// The CA's directory URL.
    pub directory: String,
    /// Account contacts (`mailto:...`).
    pub contact: Vec<String>,
    /// Where the account, certificates and keys are kept.
    pub state_dir: PathBuf,
    /// A CA certificate to trust for the directory (a private CA such as a
    /// test's); None: the web PKI.
    pub directory_ca: Option<PathBuf>,
    /// How often certificates are looked at.
    pub check: Duration,
    /// How long one order may take.
    pub order_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("ACME: {0}")]
    Acme(String),
    #[error("{0}: {1}")]
    File(String, String),
}

fn acme(e: impl std::fmt::Display) -> AcmeError {
    AcmeError::Acme(e.to_string())
}

/// What became of one name's certificate in a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub name: String,
    /// The served certificate's end (Unix seconds; 0: none served).
    pub not_after: i64,
    /// A new certificate was obtained this round.
    pub renewed: bool,
    /// Why a needed order failed (the old certificate still served).
    pub error: Option<String>,
}

/// A certificate and key as stored (PEM), with its validity.
struct Stored {
    key: Arc<CertifiedKey>,
    not_before: i64,
    not_after: i64,
}

fn file(dir: &Path, name: &str, ext: &str) -> PathBuf {
    dir.join(format!("{name}.{ext}"))
}

fn certified(cert_pem: &str, key_pem: &str) -> Result<Stored, String> {
    let key = certified_key_from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?;
    let first = key.cert.first().ok_or("no certificate")?;
    let (not_before, not_after) =
        dmarcflow_posture::der::validity(first).ok_or("unreadable certificate dates")?;
    Ok(Stored {
        key,
        not_before,
        not_after,
    })
}

fn load(dir: &Path, name: &str) -> Option<Stored> {
    let cert = std::fs::read_to_string(file(dir, name, "pem")).ok()?;
    let key = std::fs::read_to_string(file(dir, name, "key")).ok()?;
    certified(&cert, &key).ok()
}

fn save(dir: &Path, name: &str, cert_pem: &str, key_pem: &str) -> Result<(), AcmeError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| AcmeError::File(dir.display().to_string(), e.to_string()))?;
    // The key first, readable by this user only; then the certificate.
    save_private(&file(dir, name, "key"), key_pem)?;
    let cert_path = file(dir, name, "pem");
    std::fs::write(&cert_path, cert_pem)
        .map_err(|e| AcmeError::File(cert_path.display().to_string(), e.to_string()))
}

/// Whether a certificate valid from `before` to `after` is to be renewed
/// at `now`: past two thirds of its lifetime (Let's Encrypt's advice).
pub fn due(before: i64, after: i64, now: i64) -> bool {
    now >= after - (after - before).max(0) / 3
}

/// The account: stored credentials, else a new account (then stored).
async fn account(config: &AcmeConfig) -> Result<Account, AcmeError> {
    let builder = || match &config.directory_ca {
        Some(ca) => Account::builder_with_root(ca).map_err(acme),
        None => Account::builder().map_err(acme),
    };
    let path = config.state_dir.join("account.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(credentials) = serde_json::from_str::<AccountCredentials>(&text) {
            return builder()?.from_credentials(credentials).await.map_err(acme);
        }
    }
    let contact: Vec<&str> = config.contact.iter().map(String::as_str).collect();
    let (account, credentials) = builder()?
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            config.directory.clone(),
            None,
        )
        .await
        .map_err(acme)?;
    std::fs::create_dir_all(&config.state_dir)
        .map_err(|e| AcmeError::File(config.state_dir.display().to_string(), e.to_string()))?;
    let text = serde_json::to_string(&credentials).map_err(acme)?;
    save_private(&path, &text)?;
    Ok(account)
}

/// Writes `text` to `path`, readable by this user only (a key, the account).
fn save_private(path: &Path, text: &str) -> Result<(), AcmeError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| AcmeError::File(path.display().to_string(), e.to_string()))
}

/// The TLS-ALPN-01 certificate for `name`: self-signed, carrying the
/// SHA-256 of the key authorization in the critical acmeIdentifier
/// extension (RFC 8737 3).
fn challenge_certificate(name: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, AcmeError> {
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(acme)?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate().map_err(acme)?;
    let cert = params.self_signed(&key).map_err(acme)?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing =
        tokio_rustls::rustls::crypto::ring::sign::any_supported_type(&der).map_err(acme)?;
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing,
    )))
}

/// One order for `name`, answered on `certs`: the certificate and key PEM.
async fn order(
    account: &Account,
    name: &str,
    certs: &SniCertificates,
    timeout: Duration,
) -> Result<(String, String), AcmeError> {
    let identifiers = [Identifier::Dns(name.to_owned())];
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(acme)?;
    let mut authorizations = order.authorizations();
    while let Some(next) = authorizations.next().await {
        let mut authz = next.map_err(acme)?;
        match authz.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => return Err(AcmeError::Acme(format!("authorization {other:?}"))),
        }
        let mut challenge = authz
            .challenge(ChallengeType::TlsAlpn01)
            .ok_or_else(|| AcmeError::Acme("the CA offers no tls-alpn-01 challenge".into()))?;
        let digest = challenge.key_authorization().digest();
        certs.set_challenge(name, Some(challenge_certificate(name, digest.as_ref())?));
        challenge.set_ready().await.map_err(acme)?;
    }
    let retries = RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .timeout(timeout);
    let status = order.poll_ready(&retries).await.map_err(acme)?;
    if status != OrderStatus::Ready {
        return Err(AcmeError::Acme(format!(
            "the order is {status:?}, not ready"
        )));
    }
    let key_pem = order.finalize().await.map_err(acme)?;
    let cert_pem = order.poll_certificate(&retries).await.map_err(acme)?;
    Ok((cert_pem, key_pem))
}

/// One round over `names` at `now`: each stored certificate served; those
/// missing or due ordered, saved and served; a failed order keeps the old.
pub async fn maintain(
    config: &AcmeConfig,
    names: &[String],
    certs: &SniCertificates,
    now: i64,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut account_made: Option<Result<Account, String>> = None;
    for name in names {
        let stored = load(&config.state_dir, name);
        if let Some(s) = &stored {
            if certs.get(name).is_none() {
                certs.set(name, s.key.clone());
            }
            if !due(s.not_before, s.not_after, now) {
                out.push(Outcome {
                    name: name.clone(),
                    not_after: s.not_after,
                    renewed: false,
                    error: None,
                });
                continue;
            }
        }
        if account_made.is_none() {
            account_made = Some(account(config).await.map_err(|e| e.to_string()));
        }
        let result = match account_made.as_ref() {
            Some(Ok(account)) => order(account, name, certs, config.order_timeout)
                .await
                .map_err(|e| e.to_string()),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no account".into()),
        };
        certs.set_challenge(name, None);
        let outcome = match result.and_then(|(cert, key)| {
            let fresh = certified(&cert, &key)?;
            save(&config.state_dir, name, &cert, &key).map_err(|e| e.to_string())?;
            Ok(fresh)
        }) {
            Ok(fresh) => {
                certs.set(name, fresh.key.clone());
                tracing::info!(%name, not_after = fresh.not_after, "certificate obtained from the ACME CA");
                Outcome {
                    name: name.clone(),
                    not_after: fresh.not_after,
                    renewed: true,
                    error: None,
                }
            }
            Err(why) => {
                tracing::warn!(%name, error = %why, "certificate order failed; the old one (if any) is still served");
                Outcome {
                    name: name.clone(),
                    not_after: stored.as_ref().map_or(0, |s| s.not_after),
                    renewed: false,
                    error: Some(why),
                }
            }
        };
        out.push(outcome);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_past_two_thirds_of_the_lifetime() {
        assert!(!due(0, 90, 59));
        assert!(due(0, 90, 60));
        assert!(due(0, 90, 200));
        assert!(
            due(100, 50, 60),
            "a certificate ended before it began is due"
        );
    }
}
