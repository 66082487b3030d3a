//! The redaction secret: the key of the hash that replaces local parts.
//! Every process that redacts into one store must share it (or the same
//! address hashes differently per process); losing it only means new
//! reports hash differently from old ones.

use std::io::Write;
use std::path::Path;

use crate::PrivacyError;

/// Shorter secrets are refused: the hash must not be guessable.
const MIN_BYTES: usize = 16;

/// The secret in `path`, created when there is no file: 32 random bytes
/// written as hex, readable by the owner only. A file written by hand may
/// hold any text of at least 16 bytes (surrounding whitespace ignored).
pub fn load_or_create(path: &Path) -> Result<Vec<u8>, PrivacyError> {
    let failed = |reason: String| PrivacyError::Secret {
        path: path.to_owned(),
        reason,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let secret = text.trim().as_bytes().to_vec();
            if secret.len() < MIN_BYTES {
                return Err(failed(format!(
                    "{} bytes; a secret needs at least {MIN_BYTES}",
                    secret.len()
                )));
            }
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path).map_err(failed),
        Err(e) => Err(failed(e.to_string())),
    }
}

fn create(path: &Path) -> Result<Vec<u8>, String> {
    let mut random = [0u8; 32];
    getrandom::getrandom(&mut random).map_err(|e| e.to_string())?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(format!("{hex}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| e.to_string())?;
            Ok(hex.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
            Ok(text.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("secret");
        let first = load_or_create(&path)?;
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create(&path)?, first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(&path, "short\n")?;
        assert!(matches!(
            load_or_create(&path),
            Err(PrivacyError::Secret { .. })
        ));
        Ok(())
    }
}
