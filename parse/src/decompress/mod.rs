//! Decompression with limits: gzip (multi-member, trailing garbage), zip
//! (every member), raw zlib, nested layers (double gzip), base64 wrapping and
//! plain text. What a layer is comes from its magic bytes, never its label.

mod inflate;
mod limited;
mod stream;
mod zip;

use std::borrow::Cow;

use crate::detect::{sniff, Format};
use crate::{Limits, ParseError};

pub use inflate::Codec;
pub(crate) use limited::io_to_parse;
use limited::{LimitKind, Stop};
pub(crate) use stream::xml_reader;
pub use stream::StreamPayload;

/// A report document, decompressed: XML or JSON bytes.
#[derive(Debug, Clone)]
pub struct Payload<'a> {
    pub data: Cow<'a, [u8]>,
    /// [`Format::Xml`] or [`Format::Json`].
    pub format: Format,
    /// Where it came from: file or part name and the layers peeled off.
    pub origin: String,
    /// Tolerances applied while unpacking.
    pub warnings: Vec<String>,
}

/// What unpacking one blob gave.
#[derive(Debug)]
pub enum Unpacked<'a> {
    Payload(Payload<'a>),
    Stream(StreamPayload<'a>),
}

/// A part that could not be unpacked, and where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub origin: String,
    pub error: ParseError,
}

/// The bytes one input may still hold decompressed in memory, shared by
/// all its parts, members and layers ([`Limits::max_in_memory`]). A
/// compressed report that does not fit becomes a [`StreamPayload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    remaining: u64,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self {
            remaining: limits.max_in_memory,
        }
    }

    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    fn take(&mut self, bytes: usize) {
        self.remaining = self.remaining.saturating_sub(bytes as u64);
    }
}

/// Peels compression layers off `data` until XML or JSON remains; a zip
/// yields one result per member.
pub fn unpack<'a>(
    data: Cow<'a, [u8]>,
    origin: String,
    limits: Limits,
) -> Vec<Result<Unpacked<'a>, Rejection>> {
    unpack_within(data, origin, limits, &mut Budget::new(limits))
}

/// [`unpack`] drawing on a budget shared with the input's other parts.
pub fn unpack_within<'a>(
    data: Cow<'a, [u8]>,
    origin: String,
    limits: Limits,
    budget: &mut Budget,
) -> Vec<Result<Unpacked<'a>, Rejection>> {
    let mut out = Vec::new();
    Unpacker {
        limits,
        budget,
        out: &mut out,
    }
    .unpack(data, origin, 0, Vec::new());
    out
}

struct Unpacker<'o, 'a> {
    limits: Limits,
    budget: &'o mut Budget,
    out: &'o mut Vec<Result<Unpacked<'a>, Rejection>>,
}

impl<'a> Unpacker<'_, 'a> {
    fn reject(&mut self, origin: String, error: ParseError) {
        self.out.push(Err(Rejection { origin, error }));
    }

    fn unpack(
        &mut self,
        data: Cow<'a, [u8]>,
        origin: String,
        depth: usize,
        mut warnings: Vec<String>,
    ) {
        if depth > self.limits.max_layers {
            let error = ParseError::LimitExceeded(format!(
                "more than {} nested compression layers",
                self.limits.max_layers
            ));
            return self.reject(origin, error);
        }
        if data.is_empty() {
            return self.reject(origin, ParseError::Empty);
        }
        let format = sniff(&data);
        if depth > 0 && matches!(format, Format::Gzip | Format::Zip | Format::Zlib) {
            warnings.push(format!(
                "nested {} layer inside a compressed payload",
                format.name()
            ));
        }
        match format {
            Format::Xml | Format::Json => self.out.push(Ok(Unpacked::Payload(Payload {
                data,
                format,
                origin,
                warnings,
            }))),
            Format::Gzip => {
                let inner = format!("{origin} > gzip");
                self.inflate(Codec::Gzip, data, origin, inner, depth, warnings)
            }
            Format::Zlib => {
                let inner = format!("{origin} > zlib");
                self.inflate(Codec::Zlib, data, origin, inner, depth, warnings)
            }
            Format::Zip => self.zip(data, origin, depth, warnings),
            Format::Base64 => match base64_decode(&data) {
                Some(inner) if inner.len() as u64 > self.budget.remaining => self.reject(
                    origin,
                    ParseError::LimitExceeded(format!(
                        "base64 layer: {} bytes decoded, over the memory budget left ({} bytes)",
                        inner.len(),
                        self.budget.remaining
                    )),
                ),
                Some(inner)
                    if !matches!(
                        sniff(&inner),
                        Format::Unknown | Format::Base64 | Format::Email
                    ) =>
                {
                    self.budget.take(inner.len());
                    warnings.push("payload was base64 text".into());
                    self.unpack(
                        Cow::Owned(inner),
                        format!("{origin} > base64"),
                        depth + 1,
                        warnings,
                    )
                }
                _ => self.reject(
                    origin,
                    ParseError::NotAReport(
                        "payload is text that is neither XML, JSON nor base64 of a report".into(),
                    ),
                ),
            },
            Format::Email | Format::Unknown => self.reject(
                origin,
                ParseError::NotAReport(format!(
                    "payload is not XML, JSON, gzip or zip (starts with {:?})",
                    String::from_utf8_lossy(&data[..data.len().min(16)])
                )),
            ),
        }
    }

    /// One compressed layer: inflated within the budget, or (too large for
    /// it, within `max_decompressed`) handed on as a stream.
    fn inflate(
        &mut self,
        codec: Codec,
        data: Cow<'a, [u8]>,
        origin: String,
        inner_origin: String,
        depth: usize,
        warnings: Vec<String>,
    ) {
        self.inflate_checked(codec, data, None, origin, inner_origin, depth, warnings)
    }

    #[allow(clippy::too_many_arguments)]
    fn inflate_checked(
        &mut self,
        codec: Codec,
        data: Cow<'a, [u8]>,
        crc32: Option<u32>,
        origin: String,
        inner_origin: String,
        depth: usize,
        mut warnings: Vec<String>,
    ) {
        let cap = self.budget.remaining;
        // A zip member's errors name the member, a layer's the blob it was.
        let here = if codec == Codec::Deflate {
            inner_origin.clone()
        } else {
            origin.clone()
        };
        match inflate::inflate(codec, &data, cap, self.limits) {
            Ok((inner, _)) if crc32.is_some_and(|crc| crc != crc32fast::hash(&inner)) => self
                .reject(
                    inner_origin,
                    ParseError::Decompress {
                        codec: "zip",
                        detail: "member data does not match its CRC-32".into(),
                    },
                ),
            Ok((inner, trailing)) => {
                self.budget.take(inner.len());
                if trailing > 0 {
                    warnings.push(format!("ignored {trailing} trailing bytes after gzip data"));
                }
                self.unpack(Cow::Owned(inner), inner_origin, depth + 1, warnings)
            }
            // Too large for memory but within the stream limit: parse it as a
            // stream rather than refuse a genuine huge report.
            Err(Stop::Limit(LimitKind::Size, _)) if self.limits.max_decompressed > cap => {
                self.out.push(Ok(Unpacked::Stream(StreamPayload {
                    compressed: data,
                    codec,
                    origin: here,
                })))
            }
            Err(stop) => self.reject(here, stop.into_error()),
        }
    }

    fn zip(&mut self, data: Cow<'a, [u8]>, origin: String, depth: usize, warnings: Vec<String>) {
        let members = match zip::members(&data, self.limits) {
            Ok(members) if members.is_empty() => {
                let error = ParseError::NotAReport("zip archive has no report member".into());
                return self.reject(origin, error);
            }
            Ok(members) => members,
            Err(e) => return self.reject(origin, e),
        };
        for member in members {
            let member_origin = format!("{origin} > {}", member.name);
            let located = match member.data {
                Ok(located) => located,
                Err(e) => {
                    self.reject(member_origin, e);
                    continue;
                }
            };
            let bytes: Cow<'a, [u8]> = match &data {
                Cow::Borrowed(archive) => {
                    let archive: &'a [u8] = archive;
                    Cow::Borrowed(&archive[located.range])
                }
                Cow::Owned(archive) => {
                    let len = located.range.len();
                    if len as u64 > self.budget.remaining {
                        let error = ParseError::LimitExceeded(format!(
                            "zip layer: member of {len} bytes over the memory budget left"
                        ));
                        self.reject(member_origin, error);
                        continue;
                    }
                    self.budget.take(len);
                    Cow::Owned(archive[located.range].to_vec())
                }
            };
            match located.method {
                zip::Method::Stored if crc32fast::hash(&bytes) != located.crc32 => self.reject(
                    member_origin,
                    ParseError::Decompress {
                        codec: "zip",
                        detail: "member data does not match its CRC-32".into(),
                    },
                ),
                zip::Method::Stored => {
                    self.unpack(bytes, member_origin, depth + 1, warnings.clone())
                }
                zip::Method::Deflated => self.inflate_checked(
                    Codec::Deflate,
                    bytes,
                    Some(located.crc32),
                    origin.clone(),
                    member_origin,
                    depth,
                    warnings.clone(),
                ),
            }
        }
    }
}

/// Decodes base64 text with line breaks; `None` if it is not base64.
pub(crate) fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &b in text {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b if b.is_ascii_whitespace() => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Encodes base64 in lines of 76 characters (CRLF), as MIME writes it: the
/// decoder's counterpart, for building test emails and generated corpora.
pub fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() / 3 * 4 + data.len() / 57 * 2 + 4);
    for (n, chunk) in data.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let v = (u32::from(chunk[0]) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for i in 0..4 {
            let sextet = ((v >> (18 - 6 * i)) & 63) as usize;
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[sextet])
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
