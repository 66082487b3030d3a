//! A compressed report too large for the input's memory budget, read as a
//! stream: each layer decoded on the fly within `max_decompressed` and the
//! ratio limit, and the decoded bytes checked to be XML before a parser
//! reads them (a stream of zeros is refused at its first bytes, not
//! after gigabytes).

use std::borrow::Cow;
use std::io::BufRead;

use super::inflate::{decoder, Codec};
use super::limited::io_to_parse;
use crate::detect::{sniff, trim_start, Format};
use crate::{Limits, ParseError};

/// A compressed report too large to inflate in memory: parsed as a stream.
#[derive(Debug, Clone)]
pub struct StreamPayload<'a> {
    pub compressed: Cow<'a, [u8]>,
    pub codec: Codec,
    pub origin: String,
}

impl StreamPayload<'_> {
    /// A reader of the decompressed XML, bounded by `max_decompressed` and
    /// the ratio limit at every layer; nested gzip or zlib layers are
    /// peeled on the fly (at most `max_layers`).
    pub fn reader(&self, limits: Limits) -> Result<Box<dyn BufRead + '_>, ParseError> {
        let input: &[u8] = &self.compressed;
        xml_reader(Box::new(input), self.codec, limits)
    }
}

/// Decodes `codec` over `input`, then any further compressed layers, and
/// checks that XML (or white space before it) is what comes out.
pub(crate) fn xml_reader<'r>(
    input: Box<dyn BufRead + 'r>,
    codec: Codec,
    limits: Limits,
) -> Result<Box<dyn BufRead + 'r>, ParseError> {
    let mut reader = decoder(codec, input, limits.max_decompressed, limits);
    for _ in 0..limits.max_layers {
        let head = reader
            .fill_buf()
            .map_err(|e| io_to_parse(e, codec.name()))?;
        let next = match sniff(head) {
            Format::Gzip => Codec::Gzip,
            Format::Zlib => Codec::Zlib,
            Format::Xml => return Ok(reader),
            _ if trim_start(head).is_empty() => return Ok(reader),
            // TLS reports are small and read in memory only.
            Format::Json => {
                return Err(ParseError::LimitExceeded(format!(
                    "{} layer: a JSON document over the input's memory budget ({} bytes)",
                    codec.name(),
                    limits.max_in_memory
                )))
            }
            other => {
                return Err(ParseError::NotAReport(format!(
                    "{} stream decompresses to {} data, not XML (starts with {:?})",
                    codec.name(),
                    other.name(),
                    String::from_utf8_lossy(&head[..head.len().min(16)])
                )))
            }
        };
        reader = decoder(next, reader, limits.max_decompressed, limits);
    }
    Err(ParseError::LimitExceeded(format!(
        "stream: more than {} nested layers",
        limits.max_layers
    )))
}
