//! The sender catalogue, beside the flow: `enrich` asks it who sends from
//! an address (the base domain of its PTR name, the network it is in) and
//! from the domains a record's authentication names (DKIM `d=`, the SPF
//! envelope domain); the enforcement path asks it what kind a sender is
//! and how a customer aligns mail sent through it.
//!
//! The project's catalogue (`senders.toml` beside this crate, compiled in)
//! is written from each provider's own documentation, its source noted
//! beside each entry. A user's file in the same format adds entries and
//! replaces the project's: a user entry takes every key it lists.
//!
//! A key is a base domain (the registrable domain: `sendgrid.net`, not
//! `o1.ptr1234.sendgrid.net`) or an AS number. Lookups are by key kind:
//! a domain a platform bounces from is not necessarily one it signs with.

mod kind;
mod organisation;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

pub use kind::SenderKind;
pub use organisation::organisation_name;

/// The project's catalogue.
const BUILTIN: &str = include_str!("../senders.toml");

/// A sender: its name, kind, and what a customer does to send aligned
/// mail through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub kind: SenderKind,
    /// How a customer aligns mail sent through it (one line).
    pub align: Option<String>,
    /// The provider's documentation of that setup.
    pub docs: Option<String>,
}

/// Why a catalogue file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("sender catalogue {path}: {error}")]
    File { path: String, error: String },
}

/// The signals a sender is known by.
#[derive(Debug, Clone, Default)]
pub struct SenderMap {
    by_ptr: HashMap<String, Arc<Sender>>,
    by_dkim: HashMap<String, Arc<Sender>>,
    by_envelope: HashMap<String, Arc<Sender>>,
    by_asn: HashMap<u32, Arc<Sender>>,
    by_name: HashMap<String, Arc<Sender>>,
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
    name: String,
    #[serde(rename = "type")]
    kind: String,
    /// The first format's one key: a PTR (and AS) domain.
    domain: Option<String>,
    #[serde(default)]
    ptr: Vec<String>,
    #[serde(default)]
    dkim: Vec<String>,
    #[serde(default)]
    envelope: Vec<String>,
    #[serde(default)]
    asn: Vec<u32>,
    align: Option<String>,
    docs: Option<String>,
}

/// `a.b.example.com`, `b.example.com`, `example.com`, `com`.
fn parents(domain: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(domain), |d| d.split_once('.').map(|(_, rest)| rest))
}

/// A key as stored: lower case, no trailing dot.
fn key(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl SenderMap {
    /// The project's catalogue.
    pub fn builtin() -> Self {
        let mut map = Self::default();
        // The file is part of this crate and checked by its tests.
        let _ = map.add(BUILTIN);
        map
    }

    /// The project's catalogue with the entries of the user's file over it.
    pub fn with_user_file(path: &Path) -> Result<Self, CatalogueError> {
        let failed = |error: String| CatalogueError::File {
            path: path.display().to_string(),
            error,
        };
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        let mut map = Self::builtin();
        map.add(&text).map_err(failed)?;
        Ok(map)
    }

    /// Adds (or replaces, key by key) the entries of a file's text; how
    /// many entries it held.
    pub fn add(&mut self, text: &str) -> Result<usize, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let count = file.sender.len();
        for entry in file.sender {
            let name = entry.name.trim().to_owned();
            let mut ptr = entry.ptr;
            ptr.extend(entry.domain);
            if name.is_empty() {
                return Err("an entry without a name".to_owned());
            }
            if ptr.is_empty()
                && entry.dkim.is_empty()
                && entry.envelope.is_empty()
                && entry.asn.is_empty()
            {
                return Err(format!(
                    "{name}: no key (ptr, dkim, envelope, asn or domain)"
                ));
            }
            let sender = Arc::new(Sender {
                name: name.clone(),
                kind: SenderKind::parse(&entry.kind),
                align: entry.align.map(|a| a.trim().to_owned()),
                docs: entry.docs.map(|d| d.trim().to_owned()),
            });
            for (keys, map) in [
                (&ptr, &mut self.by_ptr),
                (&entry.dkim, &mut self.by_dkim),
                (&entry.envelope, &mut self.by_envelope),
            ] {
                for domain in keys {
                    let domain = key(domain);
                    if domain.is_empty() {
                        return Err(format!("{name}: an empty domain"));
                    }
                    map.insert(domain, sender.clone());
                }
            }
            for asn in entry.asn {
                self.by_asn.insert(asn, sender.clone());
            }
            self.by_name.insert(name.to_lowercase(), sender);
        }
        Ok(count)
    }

    /// The sender whose hosts' PTR names are under `base_domain` (also
    /// asked with a network's own domain).
    pub fn by_ptr(&self, base_domain: &str) -> Option<&Sender> {
        self.by_ptr.get(&key(base_domain)).map(Arc::as_ref)
    }

    /// The sender that signs with `d=` on `domain` or a parent of it
    /// (`bounce.mcsv.net` finds the key `mcsv.net`): a signature's domain
    /// as a record carries it, no suffix list needed (keys are base
    /// domains).
    pub fn signing(&self, domain: &str) -> Option<&Sender> {
        let domain = key(domain);
        let found = parents(&domain).find_map(|d| self.by_dkim.get(d));
        found.map(Arc::as_ref)
    }

    /// The sender whose bounce domain is `domain` or a parent of it.
    pub fn bouncing(&self, domain: &str) -> Option<&Sender> {
        let domain = key(domain);
        let found = parents(&domain).find_map(|d| self.by_envelope.get(d));
        found.map(Arc::as_ref)
    }

    /// The sender that owns the network AS `asn`.
    pub fn by_asn(&self, asn: u32) -> Option<&Sender> {
        self.by_asn.get(&asn).map(Arc::as_ref)
    }

    /// A sender by its name (any case): for the owner's approved senders
    /// and the fix of a blocker.
    pub fn by_name(&self, name: &str) -> Option<&Sender> {
        self.by_name
            .get(&name.trim().to_lowercase())
            .map(Arc::as_ref)
    }

    /// How many senders.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

#[cfg(test)]
mod tests;
