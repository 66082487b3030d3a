//! The bodies of the fuzz targets (`fuzz/`), shared with the stable smoke
//! test that replays the committed seeds in CI. Each must never panic and
//! must stay within the limits it sets, whatever the bytes.

use std::borrow::Cow;

use crate::decompress::{unpack, Unpacked};
use crate::{stream_aggregate, Item, Limits, Parser};

/// Tight limits: a fuzzer's bomb must cost little.
pub fn limits() -> Limits {
    Limits {
        max_decompressed: 32 << 20,
        max_in_memory: 8 << 20,
        ..Limits::default()
    }
}

/// Whole inputs: email or raw, through extraction and parsing, to JSON.
pub fn mime(data: &[u8]) {
    let parser = Parser::new(limits());
    for item in parser.extract(data, "fuzz").into_iter().flatten() {
        match item {
            Item::Payload(p) => {
                if let Ok(r) = parser.parse_payload(&p) {
                    let _ = serde_json::to_vec(&r);
                }
            }
            Item::Stream(s) => {
                if let Ok(mut stream) = parser.parse_stream(&s) {
                    let _ = stream.by_ref().count();
                    let _ = stream.finish();
                }
            }
            Item::Failure(f) => {
                let _ = serde_json::to_vec(&f);
            }
        }
    }
}

/// Decompression layers alone; a payload never exceeds the memory limit.
pub fn decompress(data: &[u8]) {
    let limits = limits();
    for u in unpack(Cow::Borrowed(data), String::new(), limits)
        .into_iter()
        .flatten()
    {
        if let Unpacked::Payload(p) = u {
            assert!(p.data.len() as u64 <= limits.max_in_memory);
        }
    }
}

/// Aggregate XML, in memory and streamed: both agree on the records.
pub fn aggregate(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if declares_other_encoding(data) {
        // Streams transcode what they declare; in memory, extraction does.
        return;
    }
    let in_memory = crate::aggregate::parse_aggregate(text);
    let mut stream = match stream_aggregate(data, limits()) {
        Ok(s) => s,
        Err(_) => return,
    };
    let streamed = stream.by_ref().count();
    let header = stream.finish();
    if let (Ok(a), Ok(b)) = (&in_memory, &header) {
        assert_eq!(
            a.records.len(),
            streamed,
            "in-memory and streamed record counts differ"
        );
        assert_eq!(a.id, b.id, "in-memory and streamed identities differ");
    }
    if let Ok(r) = in_memory {
        let _ = serde_json::to_vec(&r);
    }
}

/// Aggregate XML streamed, fast path on: the records equal the in-memory ones.
pub fn aggregate_stream(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if declares_other_encoding(data) {
        // Streams transcode what they declare; in memory, extraction does.
        return;
    }
    let Ok(in_memory) = crate::aggregate::parse_aggregate(text) else {
        return;
    };
    let Ok(mut stream) = stream_aggregate(std::io::BufReader::with_capacity(64, data), limits())
    else {
        return;
    };
    let streamed: Vec<_> = stream.by_ref().collect();
    assert_eq!(in_memory.records, streamed, "streamed records differ");
}

fn declares_other_encoding(data: &[u8]) -> bool {
    crate::text::declared_encoding(data).is_some_and(|e| e != encoding_rs::UTF_8)
}

/// ARF emails through the failure parser.
pub fn arf(data: &[u8]) {
    if let Ok(message) = crate::mime::parse_message(data) {
        if let Ok(r) = crate::failure::parse_arf(message) {
            assert_eq!(r.id.len(), 32);
            let _ = serde_json::to_vec(&r);
        }
    }
}

/// TLS-RPT JSON.
pub fn tlsrpt(data: &[u8]) {
    if let Ok(r) = crate::tlsrpt::parse_tlsrpt(data) {
        assert_eq!(r.id.len(), 32);
        let _ = serde_json::to_vec(&r);
    }
}
