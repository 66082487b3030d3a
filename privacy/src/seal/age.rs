//! age X25519 recipients: blobs `age -d -i KEY` opens.

use std::io::{Read, Write};
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use age::x25519;

use crate::PrivacyError;

#[derive(Default)]
pub struct AgeSealer {
    recipients: Vec<x25519::Recipient>,
}

impl AgeSealer {
    pub fn add(&mut self, text: &str, origin: &str) -> Result<(), PrivacyError> {
        let recipient =
            x25519::Recipient::from_str(text).map_err(|reason| PrivacyError::Recipient {
                origin: origin.to_owned(),
                reason: format!("not an age X25519 recipient ({reason})"),
            })?;
        self.recipients.push(recipient);
        Ok(())
    }

    /// The recipients of a file in `age -R` format.
    pub fn add_file(&mut self, text: &str, origin: &str) -> Result<(), PrivacyError> {
        let before = self.recipients.len();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            self.add(line, &format!("{origin} line {}", n + 1))?;
        }
        if self.recipients.len() == before {
            return Err(PrivacyError::Recipient {
                origin: origin.to_owned(),
                reason: "no recipient in the file".into(),
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.recipients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recipients.is_empty()
    }

    pub fn seal(&self, plaintext: &[u8]) -> Result<String, PrivacyError> {
        let failed = |e: &dyn std::fmt::Display| PrivacyError::Seal(e.to_string());
        let encryptor = age::Encryptor::with_recipients(
            self.recipients.iter().map(|r| r as &dyn age::Recipient),
        )
        .map_err(|e| failed(&e))?;
        let armored =
            ArmoredWriter::wrap_output(Vec::with_capacity(plaintext.len() * 2), Format::AsciiArmor)
                .map_err(|e| failed(&e))?;
        let mut writer = encryptor.wrap_output(armored).map_err(|e| failed(&e))?;
        writer.write_all(plaintext).map_err(|e| failed(&e))?;
        let armored = writer.finish().map_err(|e| failed(&e))?;
        let bytes = armored.finish().map_err(|e| failed(&e))?;
        String::from_utf8(bytes).map_err(|e| failed(&e))
    }
}

pub struct AgeIdentities {
    keys: Vec<Box<dyn age::Identity + Send + Sync>>,
}

impl AgeIdentities {
    /// An identity file's text (`AGE-SECRET-KEY-1...` lines, `#` comments).
    pub fn parse(text: &str) -> Result<Self, String> {
        let file = age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| e.to_string())?;
        let keys = file.into_identities().map_err(|e| e.to_string())?;
        if keys.is_empty() {
            return Err("no identity in the file".into());
        }
        Ok(Self { keys })
    }

    /// The plaintext of an armoured (or binary) age blob.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        let decryptor =
            age::Decryptor::new_buffered(ArmoredReader::new(sealed)).map_err(|e| e.to_string())?;
        let mut reader = decryptor
            .decrypt(self.keys.iter().map(|k| k.as_ref() as &dyn age::Identity))
            .map_err(|e| e.to_string())?;
        let mut plain = Vec::new();
        reader.read_to_end(&mut plain).map_err(|e| e.to_string())?;
        Ok(plain)
    }
}
