//! Decompression with limits: gzip (multi-member, trailing garbage), zip
//! (every member), raw zlib, nested layers (double gzip), base64 wrapping and
//! plain text. What a layer is comes from its magic bytes, never its label.

mod gzip;
mod limited;
mod zip;

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};

use crate::detect::{sniff, Format};
use crate::{Limits, ParseError};

pub(crate) use limited::io_to_parse;

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

/// A compressed report too large to inflate in memory: parsed as a stream.
#[derive(Debug, Clone)]
pub struct StreamPayload<'a> {
    pub compressed: Cow<'a, [u8]>,
    pub codec: Codec,
    pub origin: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zlib,
}

impl StreamPayload<'_> {
    /// A reader of the decompressed bytes, still bounded by `max_decompressed`
    /// and the ratio limit.
    pub fn reader(&self, limits: Limits) -> Box<dyn BufRead + '_> {
        let input: &[u8] = &self.compressed;
        let len = input.len() as u64;
        let cap = limits.max_decompressed;
        match self.codec {
            Codec::Gzip => Box::new(BufReader::with_capacity(
                64 << 10,
                limited::Limited::new(
                    flate2::bufread::MultiGzDecoder::new(input),
                    len,
                    cap,
                    limits,
                ),
            )),
            Codec::Zlib => Box::new(BufReader::with_capacity(
                64 << 10,
                limited::Limited::new(flate2::bufread::ZlibDecoder::new(input), len, cap, limits),
            )),
        }
    }
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

/// Peels compression layers off `data` until XML or JSON remains; a zip
/// yields one result per member.
pub fn unpack<'a>(
    data: Cow<'a, [u8]>,
    origin: String,
    limits: Limits,
) -> Vec<Result<Unpacked<'a>, Rejection>> {
    let mut out = Vec::new();
    Unpacker {
        limits,
        out: &mut out,
    }
    .unpack(data, origin, 0, Vec::new());
    out
}

struct Unpacker<'o, 'a> {
    limits: Limits,
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
                "more than {} nested layers",
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
            Format::Gzip => self.gzip(data, origin, depth, warnings),
            Format::Zlib => match gzip::unzlib(&data, self.limits.max_in_memory, self.limits) {
                Ok(inner) => self.unpack(
                    Cow::Owned(inner),
                    format!("{origin} > zlib"),
                    depth + 1,
                    warnings,
                ),
                Err(e) => self.reject(origin, e),
            },
            Format::Zip => match zip::unzip(&data, self.limits.max_in_memory, self.limits) {
                Ok(members) if members.is_empty() => self.reject(
                    origin,
                    ParseError::NotAReport("zip archive has no report member".into()),
                ),
                Ok(members) => {
                    for member in members {
                        let member_origin = format!("{origin} > {}", member.name);
                        match member.data {
                            Ok(d) => self.unpack(
                                Cow::Owned(d),
                                member_origin,
                                depth + 1,
                                warnings.clone(),
                            ),
                            Err(e) => self.reject(member_origin, e),
                        }
                    }
                }
                Err(e) => self.reject(origin, e),
            },
            Format::Base64 => match base64_decode(&data) {
                Some(inner)
                    if !matches!(
                        sniff(&inner),
                        Format::Unknown | Format::Base64 | Format::Email
                    ) =>
                {
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

    fn gzip(
        &mut self,
        data: Cow<'a, [u8]>,
        origin: String,
        depth: usize,
        mut warnings: Vec<String>,
    ) {
        match gzip::gunzip(&data, self.limits.max_in_memory, self.limits) {
            Ok((inner, trailing)) => {
                if trailing > 0 {
                    warnings.push(format!("ignored {trailing} trailing bytes after gzip data"));
                }
                self.unpack(
                    Cow::Owned(inner),
                    format!("{origin} > gzip"),
                    depth + 1,
                    warnings,
                )
            }
            // Too large for memory but within the stream limit: parse it as a
            // stream rather than refuse a genuine huge report.
            Err(ParseError::LimitExceeded(detail))
                if self.limits.max_decompressed > self.limits.max_in_memory
                    && detail.contains("size") =>
            {
                self.out.push(Ok(Unpacked::Stream(StreamPayload {
                    compressed: data,
                    codec: Codec::Gzip,
                    origin,
                })))
            }
            Err(e) => self.reject(origin, e),
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

/// Wraps a decoder in the size and ratio limits; `compressed_len` is what the
/// ratio is measured against (pass a huge value when unknown).
pub(crate) fn limited_reader<R: Read>(
    decoder: R,
    compressed_len: u64,
    limits: Limits,
) -> impl Read {
    limited::Limited::new(decoder, compressed_len, limits.max_decompressed, limits)
}
