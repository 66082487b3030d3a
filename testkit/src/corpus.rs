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
    crate::services::missing(
        &format!("shared corpus at {}", root.display()),
        "set DMARCFLOW_CORPUS or place it beside the repository",
    )
}
