//! zip: every member that could be a report; `__MACOSX` resource forks and
//! directories skipped. Members are located, not inflated, here: a stored
//! member is a slice of the archive, a deflated one is inflated by the
//! caller as its own limited layer (in memory or as a stream).

use std::io::Cursor;
use std::ops::Range;

use zip::CompressionMethod;

use crate::{Limits, ParseError};

/// How a member's bytes are kept in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
}

/// One member of an archive: where its data is and how to read it.
pub(crate) struct Member {
    pub name: String,
    pub data: Result<Located, ParseError>,
}

pub(crate) struct Located {
    /// The member's compressed bytes in the archive.
    pub range: Range<usize>,
    pub method: Method,
    pub crc32: u32,
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

/// Central directory entries read at most, artefacts included: the zip
/// reader keeps every entry's metadata, so a directory of a million
/// entries must be refused before it is read.
fn max_entries(limits: Limits) -> usize {
    limits.max_zip_members.saturating_mul(4).max(16)
}

/// Locates the members of `input`.
pub(crate) fn members(input: &[u8], limits: Limits) -> Result<Vec<Member>, ParseError> {
    // Every central directory entry starts with this signature: counting
    // them bounds the entries (compressed data may hold it by chance, which
    // only overcounts).
    let entries = memchr::memmem::find_iter(input, b"PK\x01\x02")
        .take(max_entries(limits) + 1)
        .count();
    if entries > max_entries(limits) {
        return Err(ParseError::LimitExceeded(format!(
            "zip layer: more than {} entries in the central directory",
            max_entries(limits)
        )));
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(input)).map_err(zip_error)?;
    let mut members = Vec::new();
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(zip_error)?;
        let name = file.name().to_owned();
        if file.is_dir() || is_artefact(&name) {
            continue;
        }
        if members.len() >= limits.max_zip_members {
            return Err(ParseError::LimitExceeded(format!(
                "zip layer: more than {} members",
                limits.max_zip_members
            )));
        }
        let data = locate(&file, input.len(), &name);
        members.push(Member { name, data });
    }
    refuse_overlaps(&members)?;
    Ok(members)
}

/// Members whose data overlap: one compressed stream read as many members,
/// the trick of the non-recursive zip bombs. No archiver writes them.
fn refuse_overlaps(members: &[Member]) -> Result<(), ParseError> {
    let mut ranges: Vec<&Range<usize>> = (members.iter())
        .filter_map(|m| m.data.as_ref().ok().map(|l| &l.range))
        .filter(|r| !r.is_empty())
        .collect();
    ranges.sort_unstable_by_key(|r| r.start);
    match ranges.windows(2).find(|w| w[1].start < w[0].end) {
        Some(_) => Err(ParseError::LimitExceeded(
            "zip layer: members share their compressed data (a zip bomb)".into(),
        )),
        None => Ok(()),
    }
}

fn locate<R: std::io::Read>(
    file: &zip::read::ZipFile<'_, R>,
    archive_len: usize,
    name: &str,
) -> Result<Located, ParseError> {
    let failed = |detail: String| ParseError::Decompress {
        codec: "zip",
        detail,
    };
    if file.encrypted() {
        return Err(failed(format!("member {name} is encrypted")));
    }
    let method = match file.compression() {
        CompressionMethod::Stored => Method::Stored,
        CompressionMethod::Deflated => Method::Deflated,
        other => {
            return Err(failed(format!(
                "member {name} uses an unsupported method ({other})"
            )))
        }
    };
    let start = file
        .data_start()
        .and_then(|s| usize::try_from(s).ok())
        .ok_or_else(|| failed(format!("member {name} has no data offset")))?;
    let end = usize::try_from(file.compressed_size())
        .ok()
        .and_then(|len| start.checked_add(len))
        .filter(|&end| end <= archive_len)
        .ok_or_else(|| failed(format!("member {name} extends past the archive")))?;
    Ok(Located {
        range: start..end,
        method,
        crc32: file.crc32(),
    })
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
