//! What the HTTPS listener serves to GET besides taking reports: pages by
//! host name and path (hosted MTA-STS policies, `mta-sts.<domain>`
//! `/.well-known/mta-sts.txt`), set by whoever hosts them (the binary
//! wires `dmarcflow_hosted` in) and read by each request. A host or path
//! not set is a 404 whose body names nothing, so a scan learns nothing of
//! which domains are hosted here.

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;

/// One page: its media type and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub content_type: &'static str,
    pub body: Bytes,
}

/// Pages by host (lower case, no port) and path.
#[derive(Debug, Default)]
pub struct Pages {
    table: RwLock<HashMap<String, HashMap<String, Page>>>,
}

impl Pages {
    /// Every page at once, replacing all before (a host left out is no
    /// longer served).
    pub fn replace_all(&self, pages: impl IntoIterator<Item = (String, String, Page)>) {
        let mut table: HashMap<String, HashMap<String, Page>> = HashMap::new();
        for (host, path, page) in pages {
            table
                .entry(host.trim_end_matches('.').to_ascii_lowercase())
                .or_default()
                .insert(path, page);
        }
        if let Ok(mut t) = self.table.write() {
            *t = table;
        }
    }

    /// The page at `path` of `host` (a Host header's value: any port is
    /// dropped, case ignored).
    pub fn get(&self, host: &str, path: &str) -> Option<Page> {
        let host = host_name(host)?;
        self.table.read().ok()?.get(&host)?.get(path).cloned()
    }
}

/// A Host header's name: lower case, without a port; None for anything
/// that is not a plain DNS name (a scan's odd values stay 404s).
fn host_name(header: &str) -> Option<String> {
    let name = header.trim();
    let name = match name.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => name,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let plain = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    plain.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_host_and_path_any_port_any_case() {
        let pages = Pages::default();
        let page = Page {
            content_type: "text/plain",
            body: Bytes::from_static(b"version: STSv1\r\n"),
        };
        pages.replace_all([(
            "mta-sts.Example.com.".to_owned(),
            "/.well-known/mta-sts.txt".to_owned(),
            page.clone(),
        )]);
        assert_eq!(
            pages.get("MTA-STS.example.com:443", "/.well-known/mta-sts.txt"),
            Some(page)
        );
        assert_eq!(pages.get("mta-sts.example.com", "/"), None);
        assert_eq!(
            pages.get("mta-sts.example.org", "/.well-known/mta-sts.txt"),
            None
        );
        assert_eq!(
            pages.get("mta-sts.example.com/../x", "/.well-known/mta-sts.txt"),
            None
        );
        pages.replace_all([]);
        assert_eq!(
            pages.get("mta-sts.example.com", "/.well-known/mta-sts.txt"),
            None
        );
    }
}
