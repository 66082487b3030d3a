//! The documentation holds together: the README stays short (at most 200
//! lines, the rest in docs/), and every relative link in it and in docs/
//! names a file or folder of the repository.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let docs = std::fs::read_dir(root().join("docs")).unwrap_or_else(|e| panic!("docs/: {e}"));
    for entry in docs.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The targets of the page's Markdown links `[text](target)`.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    found
}

fn relative(target: &str) -> Option<&str> {
    let external = ["http://", "https://", "mailto:", "#"];
    if external.iter().any(|p| target.starts_with(p)) {
        return None;
    }
    Some(target.split('#').next().unwrap_or(target))
}

#[test]
fn every_relative_link_resolves() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
        let dir = page.parent().unwrap_or(Path::new("."));
        for target in links(&text) {
            let Some(path) = relative(&target) else {
                continue;
            };
            checked += 1;
            if !dir.join(path).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked >= 10, "only {checked} relative links found");
}

#[test]
fn the_readme_stays_short_and_lists_the_docs() {
    let readme =
        std::fs::read_to_string(root().join("README.md")).unwrap_or_else(|e| panic!("{e}"));
    let lines = readme.lines().count();
    assert!(lines <= 200, "README.md has {lines} lines");
    for page in pages().iter().skip(1) {
        let name = page
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            readme.contains(&format!("(docs/{name})")),
            "README.md does not link docs/{name}"
        );
    }
}

#[test]
fn links_are_found_and_classified() {
    assert_eq!(
        links("see [a](docs/a.md#x) and [b](https://example.com) [c](#here)"),
        ["docs/a.md#x", "https://example.com", "#here"]
    );
    assert_eq!(relative("docs/a.md#x"), Some("docs/a.md"));
    assert_eq!(relative("https://example.com"), None);
}
