//! Opening one input: its bytes in memory, or a buffered reader when it is a
//! raw report too large to hold (XML, gzip or zlib over the threshold).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use dmarcflow_parse::detect::{sniff, Format};

use super::{Input, InputKind};

pub enum Opened {
    /// One email or raw report.
    Bytes(Vec<u8>),
    /// An mbox: split it with `dmarcflow_parse::mime::split_mbox`.
    Mbox(Vec<u8>),
    /// A raw aggregate report to stream.
    Stream(BufReader<File>),
}

pub fn open(input: &Input, stream_threshold: u64) -> std::io::Result<Opened> {
    let mut file = File::open(&input.path)?;
    if input.kind == InputKind::Single && input.size > stream_threshold {
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let head = reader.fill_buf()?;
        if matches!(sniff(head), Format::Xml | Format::Gzip | Format::Zlib) {
            return Ok(Opened::Stream(reader));
        }
        file = reader.into_inner();
    }
    let mut data = Vec::with_capacity(usize::try_from(input.size).unwrap_or(0));
    file.read_to_end(&mut data)?;
    Ok(match input.kind {
        InputKind::Mbox => Opened::Mbox(data),
        InputKind::Single => Opened::Bytes(data),
    })
}
