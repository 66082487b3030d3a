//! Turning the paths a user named into the inputs to read.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::FilesError;

/// How an input file is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// One email, or one raw report (XML, JSON, gzip, zip).
    Single,
    /// An mbox: many emails behind `From ` lines.
    Mbox,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub kind: InputKind,
    pub size: u64,
}

/// Every input under `paths`: files as named, directories walked in name
/// order. Maildir `tmp/` folders (deliveries in progress) and hidden files
/// are skipped.
pub fn discover<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Input>, FilesError> {
    let mut out = Vec::new();
    for path in paths {
        visit(path.as_ref(), &mut out, true)?;
    }
    Ok(out)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn visit(path: &Path, out: &mut Vec<Input>, named: bool) -> Result<(), FilesError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    if meta.is_dir() {
        if !named && is_maildir_tmp(path) {
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .map_err(io(path))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden {
                visit(&entry, out, false)?;
            }
        }
        return Ok(());
    }
    if meta.is_file() {
        let kind = if is_mbox(path)? {
            InputKind::Mbox
        } else {
            InputKind::Single
        };
        out.push(Input {
            path: path.to_path_buf(),
            kind,
            size: meta.len(),
        });
    }
    Ok(())
}

fn is_maildir_tmp(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "tmp")
        && path
            .parent()
            .is_some_and(|p| p.join("cur").is_dir() || p.join("new").is_dir())
}

/// An `.mbox` name, or a file opening with an mbox `From ` line.
fn is_mbox(path: &Path) -> Result<bool, FilesError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mbox"))
    {
        return Ok(true);
    }
    let mut head = [0u8; 5];
    let mut file = fs::File::open(path).map_err(io(path))?;
    let n = file.read(&mut head).map_err(io(path))?;
    Ok(&head[..n] == b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_maildir_and_mbox() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(md.join(sub)).unwrap();
        }
        fs::write(md.join("new/1.eml"), b"Subject: a\n\nb").unwrap();
        fs::write(md.join("cur/2:2,S"), b"Subject: a\n\nb").unwrap();
        fs::write(md.join("tmp/3"), b"partial").unwrap();
        fs::write(dir.path().join("box"), b"From a@b Mon\nSubject: x\n\ny\n").unwrap();
        fs::write(dir.path().join(".hidden"), b"x").unwrap();
        let found = discover(&[dir.path()]).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|i| {
                (
                    i.path
                        .strip_prefix(dir.path())
                        .unwrap()
                        .display()
                        .to_string(),
                    i.kind,
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("Maildir/cur/2:2,S".to_string(), InputKind::Single),
                ("Maildir/new/1.eml".to_string(), InputKind::Single),
                ("box".to_string(), InputKind::Mbox),
            ]
        );
    }

    #[test]
    fn missing_path_is_an_error() {
        assert!(discover(&["/nonexistent/dmarcflow"]).is_err());
    }
}
