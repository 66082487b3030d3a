//! zip: every member that could be a report; `__MACOSX` resource forks and
//! directories skipped.

use std::io::{Cursor, Read};

use super::limited::{io_to_parse, Limited};
use crate::{Limits, ParseError};

/// One member of an archive, inflated.
pub(crate) struct Member {
    pub name: String,
    pub data: Result<Vec<u8>, ParseError>,
}

fn zip_error(e: zip::result::ZipError) -> ParseError {
    ParseError::Decompress {
        codec: "zip",
        detail: e.to_string(),
    }
}

/// Whether a member name is an archive artefact rather than content.
fn is_artefact(name: &str) -> bool {
    name.ends_with('/')
        || name.starts_with("__MACOSX/")
        || name.contains("/__MACOSX/")
        || name
            .rsplit('/')
            .next()
            .is_some_and(|base| base.starts_with("._") || base == ".DS_Store")
}

/// Inflates the members of `input`. The whole archive shares one budget of
/// `cap` decompressed bytes, so many small bombs cost no more than one.
pub(crate) fn unzip(input: &[u8], cap: u64, limits: Limits) -> Result<Vec<Member>, ParseError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(input)).map_err(zip_error)?;
    let mut members = Vec::new();
    let mut budget = cap;
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(zip_error)?;
        let name = file.name().to_owned();
        if file.is_dir() || is_artefact(&name) {
            continue;
        }
        if members.len() >= limits.max_zip_members {
            return Err(ParseError::LimitExceeded(format!(
                "zip archive has more than {} members",
                limits.max_zip_members
            )));
        }
        let declared = file.size();
        let mut data =
            Vec::with_capacity(usize::try_from(declared.min(budget).min(64 << 20)).unwrap_or(0));
        let mut reader = Limited::new(&mut file, input.len() as u64, budget, limits);
        let result = reader
            .read_to_end(&mut data)
            .map_err(|e| io_to_parse(e, "zip"));
        budget = budget.saturating_sub(reader.produced());
        if let Err(e @ ParseError::LimitExceeded(_)) = result {
            return Err(e);
        }
        members.push(Member {
            name,
            data: result.map(|_| data),
        });
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::is_artefact;

    #[test]
    fn artefacts() {
        assert!(is_artefact("__MACOSX/._report.xml"));
        assert!(is_artefact("multiple/__MACOSX/x.xml"));
        assert!(is_artefact("dir/"));
        assert!(is_artefact("dir/._report.xml"));
        assert!(!is_artefact("multiple/report.xml"));
    }
}
