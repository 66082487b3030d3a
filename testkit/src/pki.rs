//! A private CA for tests that need real certificates: valid ones, expired
//! ones, ones for the wrong name, ones about to expire, issued to servers
//! the tests start (nginx, Exim) and trusted by the client under test
//! through the CA's PEM.

use std::time::{Duration, SystemTime};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

pub struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

/// A certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("a CA key: {e}"));
        let cert = params
            .self_signed(&key)
            .unwrap_or_else(|e| panic!("the CA certificate: {e}"));
        Self { cert, key }
    }

    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// A server certificate for `names`, valid from `from` to `until`
    /// relative to now (negative: in the past).
    pub fn issue(&self, names: &[&str], from_days: i64, until_days: i64) -> Issued {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params =
            CertificateParams::new(names.clone()).unwrap_or_else(|e| panic!("{names:?}: {e}"));
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.not_before = at(from_days);
        params.not_after = at(until_days);
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("a key: {e}"));
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .unwrap_or_else(|e| panic!("a certificate for {names:?}: {e}"));
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

fn at(days: i64) -> time::OffsetDateTime {
    let shift = Duration::from_secs(days.unsigned_abs() * 86_400);
    let when = if days < 0 {
        SystemTime::now() - shift
    } else {
        SystemTime::now() + shift
    };
    time::OffsetDateTime::from(when)
}
