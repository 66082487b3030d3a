use std::io::Write;

use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;

use super::*;

const XML: &[u8] = b"<?xml version=\"1.0\"?><feedback></feedback>";

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn payloads(data: &[u8], limits: Limits) -> Vec<Result<Unpacked<'_>, Rejection>> {
    unpack(Cow::Borrowed(data), "t".into(), limits)
}

fn only_payload(data: &[u8]) -> Payload<'_> {
    let mut all = payloads(data, Limits::default());
    assert_eq!(all.len(), 1, "{all:?}");
    match all.remove(0) {
        Ok(Unpacked::Payload(p)) => p,
        other => panic!("expected a payload, got {other:?}"),
    }
}

#[test]
fn plain_xml_is_borrowed() {
    let p = only_payload(XML);
    assert!(matches!(p.data, Cow::Borrowed(_)));
    assert_eq!(p.format, Format::Xml);
}

#[test]
fn gzip_with_trailing_crlf() {
    let mut data = gz(XML);
    data.extend_from_slice(b"\r\n");
    let p = only_payload(&data);
    assert_eq!(&*p.data, XML);
    assert_eq!(
        p.warnings,
        vec!["ignored 2 trailing bytes after gzip data".to_string()]
    );
}

#[test]
fn multi_member_gzip() {
    let mut data = gz(&XML[..10]);
    data.extend(gz(&XML[10..]));
    assert_eq!(&*only_payload(&data).data, XML);
}

#[test]
fn double_gzip() {
    let data = gz(&gz(XML));
    let p = only_payload(&data);
    assert_eq!(&*p.data, XML);
    assert!(p.origin.ends_with("gzip > gzip"));
}

#[test]
fn raw_zlib() {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(XML).unwrap();
    assert_eq!(&*only_payload(&e.finish().unwrap()).data, XML);
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        if name.ends_with('/') {
            w.add_directory(*name, ::zip::write::SimpleFileOptions::default())
                .unwrap();
        } else {
            w.start_file(*name, ::zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_every_member_skipping_artefacts() {
    let z = zip_of(&[
        ("a.xml", XML),
        ("dir/", b""),
        ("__MACOSX/._a.xml", b"\x00\x05\x16\x07junk"),
        ("dir/b.json", b"{}"),
    ]);
    let all = payloads(&z, Limits::default());
    let formats: Vec<_> = all
        .iter()
        .map(|r| match r {
            Ok(Unpacked::Payload(p)) => p.format,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(formats, vec![Format::Xml, Format::Json]);
}

#[test]
fn gzip_bomb_is_bounded() {
    let zeros = vec![b' '; 50 << 20];
    let bomb = gz(&zeros);
    let limits = Limits {
        max_decompressed: 8 << 20,
        max_in_memory: 8 << 20,
        ..Limits::default()
    };
    let all = payloads(&bomb, limits);
    match &all[..] {
        [Err(Rejection {
            error: ParseError::LimitExceeded(_),
            ..
        })] => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn ratio_limit() {
    let zeros = vec![b'<'; 4 << 20];
    let bomb = gz(&zeros);
    let limits = Limits {
        max_ratio: 10,
        ratio_grace: 1024,
        ..Limits::default()
    };
    let all = payloads(&bomb, limits);
    match &all[..] {
        [Err(Rejection {
            error: ParseError::LimitExceeded(d),
            ..
        })] => assert!(d.contains("ratio"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn zip_bomb_shares_one_budget() {
    let big = vec![b'<'; 3 << 20];
    let z = zip_of(&[("a.xml", &big), ("b.xml", &big), ("c.xml", &big)]);
    let limits = Limits {
        max_in_memory: 5 << 20,
        max_decompressed: 5 << 20,
        ..Limits::default()
    };
    let all = payloads(&z, limits);
    assert!(matches!(
        all.last(),
        Some(Err(Rejection {
            error: ParseError::LimitExceeded(_),
            ..
        }))
    ));
}

#[test]
fn oversized_gzip_becomes_a_stream() {
    let mut big = b"<".to_vec();
    let mut i = 0u64;
    while big.len() < 2 << 20 {
        big.extend_from_slice(format!("{} ", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).as_bytes());
        i += 1;
    }
    let data = gz(&big);
    let limits = Limits {
        max_in_memory: 1 << 20,
        ..Limits::default()
    };
    let mut all = payloads(&data, limits);
    match all.remove(0) {
        Ok(Unpacked::Stream(s)) => {
            let mut out = Vec::new();
            s.reader(limits).unwrap().read_to_end(&mut out).unwrap();
            assert_eq!(out, big);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn base64_wrapped_gzip() {
    let b64 = base64_encode(&gz(XML));
    let all = payloads(b64.as_bytes(), Limits::default());
    match &all[..] {
        [Ok(Unpacked::Payload(p))] => {
            assert_eq!(&*p.data, XML);
            assert!(p.warnings.iter().any(|w| w.contains("base64")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(base64_decode(b"aGVs\nbG8=").unwrap(), b"hello");
    assert!(base64_decode(b"not base64!").is_none());
}

#[test]
fn garbage_is_not_a_report() {
    let all = payloads(b"\x00\x01\x02\x03", Limits::default());
    assert!(matches!(
        &all[..],
        [Err(Rejection {
            error: ParseError::NotAReport(_),
            ..
        })]
    ));
    let all = payloads(b"", Limits::default());
    assert!(matches!(
        &all[..],
        [Err(Rejection {
            error: ParseError::Empty,
            ..
        })]
    ));
}
