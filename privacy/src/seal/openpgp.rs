//! OpenPGP public keys (rpgp): blobs `gpg --decrypt` opens. Each key's
//! self-signatures are checked, and the blob is encrypted to every subkey
//! whose binding marks it for encryption (SEIPD v1, AES-256: what every
//! OpenPGP implementation in use reads).

use pgp::composed::{
    ArmorOptions, Deserializable, Message, MessageBuilder, SignedPublicKey, SignedPublicSubKey,
    SignedSecretKey,
};
use pgp::crypto::sym::SymmetricKeyAlgorithm;

use crate::PrivacyError;

const PUBLIC_KEY: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const SECRET_KEY: &str = "-----BEGIN PGP PRIVATE KEY BLOCK-----";

pub fn is_public_key(text: &str) -> bool {
    text.contains(PUBLIC_KEY)
}

pub fn is_secret_key(text: &str) -> bool {
    text.contains(SECRET_KEY)
}

#[derive(Default)]
pub struct OpenPgpSealer {
    subkeys: Vec<SignedPublicSubKey>,
}

impl OpenPgpSealer {
    /// Every key of an armoured key file: its encryption subkeys.
    pub fn add_file(&mut self, text: &str, origin: &str) -> Result<(), PrivacyError> {
        let failed = |reason: String| PrivacyError::Recipient {
            origin: origin.to_owned(),
            reason,
        };
        let (keys, _) = SignedPublicKey::from_string_many(text)
            .map_err(|e| failed(format!("not an OpenPGP public key ({e})")))?;
        let before = self.subkeys.len();
        for key in keys {
            let key = key.map_err(|e| failed(format!("not an OpenPGP public key ({e})")))?;
            key.verify_bindings()
                .map_err(|e| failed(format!("a key's signatures do not verify ({e})")))?;
            let encrypting = key.public_subkeys.into_iter().filter(|sub| {
                sub.signatures.iter().any(|s| {
                    let flags = s.key_flags();
                    flags.encrypt_comms() || flags.encrypt_storage()
                })
            });
            self.subkeys.extend(encrypting);
        }
        if self.subkeys.len() == before {
            return Err(failed(
                "no OpenPGP key with an encryption subkey in the file".into(),
            ));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.subkeys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subkeys.is_empty()
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String, PrivacyError> {
        let failed = |e: pgp::errors::Error| PrivacyError::Seal(e.to_string());
        let mut rng = rand::thread_rng();
        let mut builder = MessageBuilder::from_bytes("", plaintext.to_vec())
            .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        for subkey in &self.subkeys {
            builder.encrypt_to_key(&mut rng, subkey).map_err(failed)?;
        }
        builder
            .to_armored_string(&mut rng, ArmorOptions::default())
            .map_err(failed)
    }
}

pub struct OpenPgpIdentities {
    keys: Vec<SignedSecretKey>,
}

impl OpenPgpIdentities {
    /// Secret keys without a passphrase, armoured.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (keys, _) = SignedSecretKey::from_string_many(text).map_err(|e| e.to_string())?;
        let keys = keys
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        if keys.is_empty() {
            return Err("no OpenPGP secret key in the file".into());
        }
        Ok(Self { keys })
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(sealed).map_err(|e| e.to_string())?;
        let (message, _) = Message::from_string(text).map_err(|e| e.to_string())?;
        let no_passphrase = pgp::types::Password::empty();
        let passwords = self.keys.iter().map(|_| &no_passphrase).collect();
        let mut message = message
            .decrypt_with_keys(passwords, self.keys.iter().collect())
            .map_err(|e| format!("{e} (a key with a passphrase opens with gpg --decrypt)"))?;
        if message.is_compressed() {
            message = message.decompress().map_err(|e| e.to_string())?;
        }
        message.as_data_vec().map_err(|e| e.to_string())
    }
}
