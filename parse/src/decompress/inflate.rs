//! Inflating one compressed layer, in memory or as a stream: gzip
//! (multi-member, tolerant of trailing garbage: Mimecast appends CRLF), raw
//! zlib, and the deflate data of a zip member. Every decoder runs inside a
//! [`Limited`] reader over a [`Counted`] input.

use std::io::{BufRead, BufReader, Read};

use flate2::bufread::{DeflateDecoder, GzDecoder, MultiGzDecoder, ZlibDecoder};

use super::limited::{Counted, Limited, Stop};
use crate::Limits;

/// A compressed layer's codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zlib,
    /// The deflate data of a zip member.
    Deflate,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Zlib => "zlib",
            Self::Deflate => "zip member",
        }
    }
}

/// Inflates `input` into memory, producing at most `cap` bytes. Returns the
/// data and the number of trailing bytes ignored after a gzip.
pub(crate) fn inflate(
    codec: Codec,
    input: &[u8],
    cap: u64,
    limits: Limits,
) -> Result<(Vec<u8>, usize), Stop> {
    let mut out = Vec::with_capacity(initial_capacity(input.len(), cap, limits));
    let codec_name = codec.name();
    let fill = |reader: &mut dyn Read, out: &mut Vec<u8>| {
        reader
            .read_to_end(out)
            .map(|_| ())
            .map_err(|e| Stop::from_io(e, codec_name))
    };
    match codec {
        Codec::Zlib => {
            let mut reader = Limited::new(
                ZlibDecoder::new(Counted::new(input)),
                cap,
                limits,
                codec_name,
            );
            fill(&mut reader, &mut out)?;
            Ok((out, 0))
        }
        Codec::Deflate => {
            let mut reader = Limited::new(
                DeflateDecoder::new(Counted::new(input)),
                cap,
                limits,
                codec_name,
            );
            fill(&mut reader, &mut out)?;
            Ok((out, 0))
        }
        Codec::Gzip => {
            let mut rest = input;
            let (mut produced, mut consumed) = (0u64, 0u64);
            loop {
                let mut reader =
                    Limited::new(GzDecoder::new(Counted::new(rest)), cap, limits, codec_name)
                        .continuing(produced, consumed);
                fill(&mut reader, &mut out)?;
                produced = reader.produced();
                let remaining = reader.into_inner().into_inner().into_inner();
                consumed += (rest.len() - remaining.len()) as u64;
                rest = remaining;
                if !rest.starts_with(&[0x1f, 0x8b]) {
                    return Ok((out, rest.len()));
                }
            }
        }
    }
}

/// A reader of a layer's decompressed bytes, bounded by `cap` and the ratio.
pub(crate) fn decoder<'r>(
    codec: Codec,
    input: Box<dyn BufRead + 'r>,
    cap: u64,
    limits: Limits,
) -> Box<dyn BufRead + 'r> {
    let input = Counted::new(input);
    let name = codec.name();
    let reader: Box<dyn Read + 'r> = match codec {
        Codec::Gzip => Box::new(Limited::new(MultiGzDecoder::new(input), cap, limits, name)),
        Codec::Zlib => Box::new(Limited::new(ZlibDecoder::new(input), cap, limits, name)),
        Codec::Deflate => Box::new(Limited::new(DeflateDecoder::new(input), cap, limits, name)),
    };
    Box::new(BufReader::with_capacity(64 << 10, reader))
}

/// A first allocation for the output: a few times the input, never more
/// than the cap allows (a gzip trailer's size is the sender's claim, so it
/// is not trusted), at most 16 MiB (the vector grows from there).
fn initial_capacity(input: usize, cap: u64, limits: Limits) -> usize {
    let guess = (input as u64)
        .saturating_mul(8)
        .max(limits.ratio_grace.min(1 << 20))
        .min(cap)
        .min(16 << 20);
    usize::try_from(guess).unwrap_or(0)
}
