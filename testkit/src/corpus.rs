//! The shared corpus of real reports: `$DMARCFLOW_CORPUS`, else
//! `../shared/corpus` beside the repository (read in place, never copied
//! into it).

use std::path::{Path, PathBuf};

/// The corpus folder (it holds `INVENTORY.tsv`). Missing: a failure under
/// CI (`CI=true`), a skip (None, with a line on stderr) elsewhere.
pub fn root() -> Option<PathBuf> {
    let root = std::env::var_os("DMARCFLOW_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    if root.join("INVENTORY.tsv").is_file() {
        return Some(root);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "CI=true but the shared corpus is missing at {}",
        root.display()
    );
    eprintln!("skipping: no shared corpus at {}", root.display());
    None
}
