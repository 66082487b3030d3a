//! gzip: multi-member, tolerant of trailing garbage (Mimecast appends CRLF).

use std::io::Read;

use flate2::bufread::{GzDecoder, ZlibDecoder};

use super::limited::{io_to_parse, Limited};
use crate::{Limits, ParseError};

/// Inflates every gzip member of `input` into memory, up to `cap` bytes.
/// Returns the data and the number of trailing bytes ignored.
pub(crate) fn gunzip(
    input: &[u8],
    cap: u64,
    limits: Limits,
) -> Result<(Vec<u8>, usize), ParseError> {
    let mut out = Vec::with_capacity(initial_capacity(input, cap));
    let mut rest = input;
    let mut produced = 0u64;
    loop {
        let mut decoder = Limited::new(
            GzDecoder::new(rest),
            input.len() as u64,
            cap.saturating_sub(produced),
            limits,
        );
        decoder
            .read_to_end(&mut out)
            .map_err(|e| io_to_parse(e, "gzip"))?;
        produced += decoder.produced();
        let decoder = decoder.into_inner();
        rest = decoder.into_inner();
        if !rest.starts_with(&[0x1f, 0x8b]) {
            return Ok((out, rest.len()));
        }
    }
}

/// Inflates a raw zlib stream into memory, up to `cap` bytes.
pub(crate) fn unzlib(input: &[u8], cap: u64, limits: Limits) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::with_capacity(initial_capacity(input, cap));
    Limited::new(ZlibDecoder::new(input), input.len() as u64, cap, limits)
        .read_to_end(&mut out)
        .map_err(|e| io_to_parse(e, "zlib"))?;
    Ok(out)
}

/// The gzip trailer's ISIZE (size mod 2^32) is a hint, never trusted past `cap`.
fn initial_capacity(input: &[u8], cap: u64) -> usize {
    let hint = match input.len() {
        n if n >= 18 => {
            let t = &input[n - 4..];
            u64::from(u32::from_le_bytes([t[0], t[1], t[2], t[3]]))
        }
        _ => 0,
    };
    let guess = hint.max(input.len() as u64 * 4);
    usize::try_from(guess.min(cap).min(64 << 20)).unwrap_or(0)
}
