//! Opening one input: its bytes in memory, a buffered reader when it is a
//! raw report too large to hold (XML, gzip or zlib over the threshold), or
//! an mbox read one message at a time. Nothing larger than a message's
//! limit is ever read into memory whole.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use dmarcflow_parse::detect::{sniff, Format};

use super::mbox::MboxReader;
use super::{Input, InputKind};

pub enum Opened {
    /// One email or raw report.
    Bytes(Vec<u8>),
    /// An mbox, one message at a time.
    Mbox(MboxReader<BufReader<File>>),
    /// A raw aggregate report to stream.
    Stream(BufReader<File>),
    /// One email (or a raw report that cannot be streamed) over the limit:
    /// not read.
    TooLarge { size: u64, limit: u64 },
}

/// Opens `input`: raw reports over `stream_threshold` are streamed, other
/// single inputs over `max_message_bytes` are refused unread.
pub fn open(
    input: &Input,
    stream_threshold: u64,
    max_message_bytes: u64,
) -> std::io::Result<Opened> {
    let mut file = File::open(&input.path)?;
    if input.kind == InputKind::Mbox {
        return Ok(Opened::Mbox(MboxReader::new(
            BufReader::with_capacity(1 << 20, file),
            max_message_bytes,
        )));
    }
    if input.size > stream_threshold {
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let head = reader.fill_buf()?;
        if matches!(sniff(head), Format::Xml | Format::Gzip | Format::Zlib) {
            return Ok(Opened::Stream(reader));
        }
        file = reader.into_inner();
    }
    if input.size > max_message_bytes {
        return Ok(Opened::TooLarge {
            size: input.size,
            limit: max_message_bytes,
        });
    }
    let mut data = Vec::with_capacity(usize::try_from(input.size).unwrap_or(0));
    // The file may have grown since it was listed: read no more than the limit.
    file.take(max_message_bytes.saturating_add(1))
        .read_to_end(&mut data)?;
    if data.len() as u64 > max_message_bytes {
        return Ok(Opened::TooLarge {
            size: data.len() as u64,
            limit: max_message_bytes,
        });
    }
    Ok(Opened::Bytes(data))
}
