//! The sender behind a base domain: its name and what kind of sender it is,
//! from the map this project keeps (`senders.toml` beside this crate,
//! compiled in) and the user's own file in the same format, whose entries
//! replace the project's for the same domain.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::EnrichError;

/// The project's map.
const BUILTIN: &str = include_str!("../senders.toml");

/// What kind of sender a domain is; a type this version does not know is
/// kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderKind {
    EmailProvider,
    Esp,
    SecurityGateway,
    Cloud,
    WebHost,
    Other(String),
}

impl SenderKind {
    fn parse(text: &str) -> Self {
        match text.trim().to_ascii_lowercase().as_str() {
            "email provider" => Self::EmailProvider,
            "esp" => Self::Esp,
            "security gateway" => Self::SecurityGateway,
            "cloud" => Self::Cloud,
            "web host" => Self::WebHost,
            _ => Self::Other(text.trim().to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::EmailProvider => "email provider",
            Self::Esp => "esp",
            Self::SecurityGateway => "security gateway",
            Self::Cloud => "cloud",
            Self::WebHost => "web host",
            Self::Other(text) => text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub kind: SenderKind,
}

#[derive(Debug, Clone, Default)]
pub struct SenderMap {
    by_domain: HashMap<String, Sender>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    sender: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    domain: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
}

impl SenderMap {
    /// The project's map.
    pub fn builtin() -> Self {
        let mut map = Self::default();
        // The file is part of this crate and checked by its tests.
        let _ = map.add(BUILTIN);
        map
    }

    /// The project's map with the entries of the user's file over it.
    pub fn with_user_file(path: &Path) -> Result<Self, EnrichError> {
        let failed = |error: String| EnrichError::Senders {
            path: path.display().to_string(),
            error,
        };
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        let mut map = Self::builtin();
        map.add(&text).map_err(failed)?;
        Ok(map)
    }

    /// Adds (or replaces) the entries of a file's text.
    pub fn add(&mut self, text: &str) -> Result<usize, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let count = file.sender.len();
        for entry in file.sender {
            let domain = entry
                .domain
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if domain.is_empty() || entry.name.trim().is_empty() {
                return Err(format!("an entry without a domain or a name ({domain:?})"));
            }
            self.by_domain.insert(
                domain,
                Sender {
                    name: entry.name.trim().to_owned(),
                    kind: SenderKind::parse(&entry.kind),
                },
            );
        }
        Ok(count)
    }

    /// The sender of a base domain.
    pub fn lookup(&self, base_domain: &str) -> Option<&Sender> {
        self.by_domain.get(
            base_domain
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .as_str(),
        )
    }

    pub fn len(&self) -> usize {
        self.by_domain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_domain.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SuffixList;

    #[test]
    fn the_project_map_reads_whole_and_every_domain_is_a_base_domain() {
        let mut map = SenderMap::default();
        let entries = map.add(BUILTIN).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(entries, map.len(), "a domain listed twice");
        assert!(map.len() >= 20);
        for (domain, sender) in &map.by_domain {
            assert_eq!(
                SuffixList::Builtin.base_domain(domain).as_deref(),
                Some(domain.as_str()),
                "{domain} is not a base domain"
            );
            assert!(
                !matches!(sender.kind, SenderKind::Other(_)),
                "{domain}: unknown type {:?}",
                sender.kind
            );
        }
    }

    #[test]
    fn ptr_names_find_their_sender() {
        let map = SenderMap::builtin();
        let sender = |ptr: &str| {
            let base = SuffixList::Builtin.base_domain(ptr)?;
            map.lookup(&base).cloned()
        };
        assert_eq!(
            sender("mail-sor-f41.google.com"),
            Some(Sender {
                name: "Google".into(),
                kind: SenderKind::EmailProvider
            })
        );
        let ses = sender("a8-30.smtp-out.amazonses.com").map(|s| s.kind);
        assert_eq!(ses, Some(SenderKind::Esp));
        assert_eq!(sender("mx.example.org"), None);
    }

    #[test]
    fn user_entries_add_and_replace() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("senders.toml");
        std::fs::write(
            &path,
            "[[sender]]\ndomain = \"Example.COM.\"\nname = \"Our relay\"\ntype = \"relay\"\n\n\
             [[sender]]\ndomain = \"google.com\"\nname = \"Google Workspace\"\ntype = \"email provider\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let map = SenderMap::with_user_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let ours = map.lookup("example.com").unwrap_or_else(|| panic!("added"));
        assert_eq!(ours.kind, SenderKind::Other("relay".into()));
        assert_eq!(ours.kind.as_str(), "relay");
        assert_eq!(
            map.lookup("google.com").map(|s| s.name.as_str()),
            Some("Google Workspace")
        );
        assert_eq!(map.len(), SenderMap::builtin().len() + 1);

        std::fs::write(&path, "[[sender]]\ndomain = \"x.example\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = SenderMap::with_user_file(&path).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("senders.toml"), "{err}");
    }
}
