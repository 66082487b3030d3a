//! Sealing: the personal fields encrypted to the owner's keys, several
//! allowed (key rotation: any one opens a blob). Two kinds, each the
//! format of a standard tool, so owners never depend on dmarcflow to read
//! their data:
//! - age X25519 recipients ([`age`]): `age -d -i KEY` opens a blob;
//! - OpenPGP public keys ([`openpgp`], rpgp): `gpg --decrypt` opens it.
//!
//! A blob is one file of one format, so the recipients are all of one
//! kind. Blobs are ASCII-armoured: text that a JSON string and a String
//! column hold as they are.

pub mod age;
pub mod openpgp;

use std::io::Read;
use std::path::Path;

use crate::PrivacyError;

/// Largest key file read (a key or a recipients file is a few KB).
const MAX_KEY_FILE: u64 = 1 << 20;

pub enum Sealer {
    Age(age::AgeSealer),
    OpenPgp(openpgp::OpenPgpSealer),
}

impl Sealer {
    /// Each entry an age recipient (`age1...`), a file of them (one a line,
    /// `#` comments: the format of `age -R`), or an OpenPGP public key file
    /// (armoured, as `gpg --armor --export` writes it). A malformed key,
    /// an unreadable file, a file without a key, or a mix of age and
    /// OpenPGP keys is an error.
    pub fn from_recipients(entries: &[String]) -> Result<Self, PrivacyError> {
        let mut age_keys = age::AgeSealer::default();
        let mut pgp_keys = openpgp::OpenPgpSealer::default();
        for entry in entries {
            let entry = entry.trim();
            if entry.starts_with("age1") {
                age_keys.add(entry, entry)?;
                continue;
            }
            let text = read_key_file(Path::new(entry))
                .map_err(|e| PrivacyError::RecipientFile(entry.to_owned(), e))?;
            if openpgp::is_public_key(&text) {
                pgp_keys.add_file(&text, entry)?;
            } else {
                age_keys.add_file(&text, entry)?;
            }
        }
        match (age_keys.is_empty(), pgp_keys.is_empty()) {
            (true, true) => Err(PrivacyError::NoRecipients),
            (false, true) => Ok(Sealer::Age(age_keys)),
            (true, false) => Ok(Sealer::OpenPgp(pgp_keys)),
            (false, false) => Err(PrivacyError::Recipient {
                origin: "privacy.recipients".into(),
                reason: "age and OpenPGP keys mixed: a sealed report is one file for one tool, so the recipients must be of one kind".into(),
            }),
        }
    }

    /// How many keys a blob is sealed to.
    pub fn len(&self) -> usize {
        match self {
            Sealer::Age(s) => s.len(),
            Sealer::OpenPgp(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `plaintext` encrypted to every key, armoured.
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, PrivacyError> {
        match self {
            Sealer::Age(s) => s.seal(plaintext),
            Sealer::OpenPgp(s) => s.seal(plaintext),
        }
    }
}

/// The owner's private keys, to open sealed blobs (`dmarcflow ruf show`).
pub enum Identities {
    Age(age::AgeIdentities),
    OpenPgp(openpgp::OpenPgpIdentities),
}

impl Identities {
    /// An age identity file (`age-keygen` output: `AGE-SECRET-KEY-1...`
    /// lines), or an OpenPGP secret key without a passphrase (`gpg --armor
    /// --export-secret-keys`; one with a passphrase is opened with gpg).
    pub fn from_file(path: &Path) -> Result<Self, PrivacyError> {
        let failed = |reason: String| PrivacyError::Identity {
            path: path.to_owned(),
            reason,
        };
        let text = read_key_file(path).map_err(failed)?;
        if openpgp::is_secret_key(&text) {
            return Ok(Identities::OpenPgp(
                openpgp::OpenPgpIdentities::parse(&text).map_err(failed)?,
            ));
        }
        Ok(Identities::Age(
            age::AgeIdentities::parse(&text).map_err(failed)?,
        ))
    }

    /// The plaintext of a sealed blob.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, PrivacyError> {
        match self {
            Identities::Age(i) => i.open(sealed),
            Identities::OpenPgp(i) => i.open(sealed),
        }
        .map_err(PrivacyError::Open)
    }
}

fn read_key_file(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::age::secrecy::ExposeSecret;
    use ::age::x25519;
    use std::path::PathBuf;

    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    fn identity_file(dir: &Path, name: &str) -> Result<(PathBuf, String)> {
        let key = x25519::Identity::generate();
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!("# test key\n{}\n", key.to_string().expose_secret()),
        )?;
        Ok((path, key.to_public().to_string()))
    }

    #[test]
    fn either_of_two_recipients_opens_a_blob() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let (one, one_public) = identity_file(dir.path(), "one")?;
        let (two, two_public) = identity_file(dir.path(), "two")?;
        let (other, _) = identity_file(dir.path(), "other")?;
        let file = dir.path().join("recipients");
        std::fs::write(&file, format!("# rotated in\n{two_public}\n"))?;
        let sealer = Sealer::from_recipients(&[one_public, file.display().to_string()])?;
        assert_eq!(sealer.len(), 2);
        let blob = sealer.seal(b"{\"subject\":\"hello\"}")?;
        assert!(blob.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!blob.contains("hello"));
        for key in [one, two] {
            let plain = Identities::from_file(&key)?.open(blob.as_bytes())?;
            assert_eq!(plain, b"{\"subject\":\"hello\"}");
        }
        assert!(Identities::from_file(&other)?
            .open(blob.as_bytes())
            .is_err());
        Ok(())
    }

    #[test]
    fn bad_keys_are_errors() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let (_, age_public) = identity_file(dir.path(), "age")?;
        let bad = |entries: &[&str]| {
            let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
            Sealer::from_recipients(&entries).is_err()
        };
        assert!(bad(&["age1notakey"]));
        assert!(bad(&["/nonexistent/owner.txt"]));
        assert!(bad(&[]));
        let pgp = dir.path().join("owner.asc");
        std::fs::write(
            &pgp,
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n",
        )?;
        let pgp = pgp.to_str().unwrap_or_default();
        assert!(bad(&[pgp]), "a malformed OpenPGP key");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# nothing\n")?;
        let empty_name = empty.to_str().unwrap_or_default();
        assert!(bad(&[empty_name]));
        assert!(Identities::from_file(&empty).is_err());
        assert!(bad(&[age_public.as_str(), empty_name]));
        Ok(())
    }
}
