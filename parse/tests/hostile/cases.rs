//! A battery of hostile inputs, generated (never committed): bombs of each
//! format and nesting, deep nesting, huge values and headers, millions of
//! parts and members, entity tricks, junk, truncated and invalid encodings,
//! numbers and dates out of range. Each case says which outcomes are
//! acceptable: reason classes (`ParseError::class`) or `ok` for a report.
//!
//! Used by `parse/tests/hostile.rs` (in process: the outcomes) and by the
//! binary's `tests/hostile.rs` (`dmarcflow parse` on each, peak RSS checked).
#![allow(dead_code)]

use std::io::Write;
use std::sync::OnceLock;

use flate2::write::{DeflateEncoder, GzEncoder};
use flate2::Compression;

pub struct Case {
    pub name: &'static str,
    /// A file name for it (the binary's battery writes it there).
    pub file: &'static str,
    pub bytes: Vec<u8>,
    /// Every outcome must be one of these; `ok` is a report.
    pub expect: &'static [&'static str],
    /// At least this many outcomes (reports or rejections).
    pub min_outcomes: usize,
}

const GIB: usize = 1 << 30;
const MIB: usize = 1 << 20;

fn case(
    name: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        file,
        bytes,
        expect,
        min_outcomes: 1,
    }
}

/// Raw deflate of `n` copies of `byte`, written in blocks (no buffer of `n`).
fn deflate_repeated(byte: u8, n: usize) -> Vec<u8> {
    let block = vec![byte; MIB];
    let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
    let mut left = n;
    while left > 0 {
        let take = left.min(MIB);
        let _ = e.write_all(&block[..take]);
        left -= take;
    }
    e.finish().unwrap_or_default()
}

/// CRC-32 of `n` copies of `byte`.
fn crc_repeated(byte: u8, n: usize) -> u32 {
    let block = vec![byte; MIB];
    let mut h = crc32fast::Hasher::new();
    let mut left = n;
    while left > 0 {
        let take = left.min(MIB);
        h.update(&block[..take]);
        left -= take;
    }
    h.finalize()
}

/// A gzip member around raw deflate data.
fn gzip_member(deflated: &[u8], crc: u32, size: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend_from_slice(deflated);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&(size as u32).to_le_bytes());
    out
}

/// 1 GiB of zeros, deflated once per process (about 1 MB).
fn gib_of_zeros() -> &'static (Vec<u8>, u32) {
    static ZEROS: OnceLock<(Vec<u8>, u32)> = OnceLock::new();
    ZEROS.get_or_init(|| (deflate_repeated(0, GIB), crc_repeated(0, GIB)))
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// A zip member as written by hand: name, method (0 stored, 8 deflated),
/// the data as stored, its CRC and uncompressed size.
pub struct ZipMember<'a> {
    pub name: &'a str,
    pub method: u16,
    pub data: &'a [u8],
    pub crc: u32,
    pub size: u32,
}

/// A zip archive; `central` lists, per central directory entry, which
/// member's local header it points at (entries may share one: overlap).
pub fn zip_archive(members: &[ZipMember<'_>], central: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for m in members {
        offsets.push(out.len() as u32);
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&m.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
        out.extend_from_slice(&m.crc.to_le_bytes());
        out.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&m.size.to_le_bytes());
        out.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(m.name.as_bytes());
        out.extend_from_slice(m.data);
    }
    let cd_start = out.len() as u32;
    for (n, &i) in central.iter().enumerate() {
        let m = &members[i];
        let name = if central.len() > members.len() {
            format!("{n}-{}", m.name)
        } else {
            m.name.to_owned()
        };
        out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&m.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]);
        out.extend_from_slice(&m.crc.to_le_bytes());
        out.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&m.size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
        out.extend_from_slice(&offsets[i].to_le_bytes());
        out.extend_from_slice(name.as_bytes());
    }
    let cd_len = out.len() as u32 - cd_start;
    let entries = central.len().min(0xffff) as u16;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&entries.to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// An email with one base64 attachment.
pub fn email_with(content_type: &str, name: &str, body: &[u8]) -> Vec<u8> {
    format!(
        "From: dmarc@reporter.example\r\nTo: rua@example.com\r\nSubject: Report Domain: example.com\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        dmarcflow_parse::decompress::base64_encode(body)
    )
    .into_bytes()
}

/// A valid aggregate report; `records` records, `begin`/`end` as given.
pub fn report(records: usize, begin: &str, end: &str, count: &str) -> Vec<u8> {
    let mut x = format!(
        "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>reporter.example</org_name>\
<email>dmarc@reporter.example</email><report_id>hostile-{records}-{begin}</report_id><date_range><begin>{begin}</begin>\
<end>{end}</end></date_range></report_metadata><policy_published><domain>example.com</domain><p>none</p>\
</policy_published>"
    );
    for i in 0..records {
        x.push_str(&format!(
            "<record><row><source_ip>10.{}.{}.{}</source_ip><count>{count}</count></row>\
<identifiers><header_from>example.com</header_from></identifiers><auth_results><spf><domain>example.com</domain>\
<result>pass</result></spf></auth_results></record>",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
    }
    x.push_str("</feedback>");
    x.into_bytes()
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn random_bytes(n: usize, alphabet: Option<&[u8]>) -> Vec<u8> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            let r = xorshift(&mut seed);
            match alphabet {
                Some(a) => a[(r % a.len() as u64) as usize],
                None => r as u8,
            }
        })
        .collect()
}

/// Names of the cases, cheap: the battery runs one at a time.
pub fn names() -> Vec<&'static str> {
    CASES.iter().map(|(name, _)| *name).collect()
}

/// Builds one case by name.
pub fn build(name: &str) -> Option<Case> {
    CASES.iter().find(|(n, _)| *n == name).map(|(_, f)| f())
}

type Builder = fn() -> Case;

const LIMIT: &[&str] = &["limit_exceeded"];

static CASES: &[(&str, Builder)] = &[
    ("gzip_gib_of_zeros", || {
        let (d, crc) = gib_of_zeros();
        case(
            "gzip_gib_of_zeros",
            "zeros.xml.gz",
            gzip_member(d, *crc, GIB),
            LIMIT,
        )
    }),
    ("gzip_members_8_gib", || {
        let d = deflate_repeated(0, 16 * MIB);
        let member = gzip_member(&d, crc_repeated(0, 16 * MIB), 16 * MIB);
        case(
            "gzip_members_8_gib",
            "members.gz",
            member.repeat(512),
            LIMIT,
        )
    }),
    ("email_gzip_bomb", || {
        let (d, crc) = gib_of_zeros();
        let body = gzip_member(d, *crc, GIB);
        case(
            "email_gzip_bomb",
            "bomb.eml",
            email_with("application/gzip", "report.xml.gz", &body),
            LIMIT,
        )
    }),
    ("tlsrpt_json_gz_bomb", || {
        let mut doc = b"{\"organization-name\":\"".to_vec();
        doc.extend(std::iter::repeat_n(b'a', 256 * MIB));
        case("tlsrpt_json_gz_bomb", "tls.json.gz", gz(&doc), LIMIT)
    }),
    ("zip_gib_of_zeros", || {
        let (d, crc) = gib_of_zeros();
        let m = ZipMember {
            name: "report.xml",
            method: 8,
            data: d,
            crc: *crc,
            size: GIB as u32,
        };
        case(
            "zip_gib_of_zeros",
            "bomb.zip",
            zip_archive(&[m], &[0]),
            LIMIT,
        )
    }),
    ("zip_overlapping_members", || {
        let xml = report(2000, "1700000000", "1700086400", "1");
        let d = deflate(&xml);
        let m = ZipMember {
            name: "r.xml",
            method: 8,
            data: &d,
            crc: crc32fast::hash(&xml),
            size: xml.len() as u32,
        };
        let central = vec![0; 100];
        case(
            "zip_overlapping_members",
            "overlap.zip",
            zip_archive(&[m], &central),
            LIMIT,
        )
    }),
    ("zip_many_members", || {
        let names: Vec<String> = (0..5000).map(|i| format!("m{i}.xml")).collect();
        let members: Vec<ZipMember<'_>> = names
            .iter()
            .map(|n| ZipMember {
                name: n,
                method: 0,
                data: b"<a/>",
                crc: crc32fast::hash(b"<a/>"),
                size: 4,
            })
            .collect();
        let central: Vec<usize> = (0..members.len()).collect();
        case(
            "zip_many_members",
            "many.zip",
            zip_archive(&members, &central),
            LIMIT,
        )
    }),
    ("gzip_in_zip_bomb", || {
        let (d, crc) = gib_of_zeros();
        let inner = gzip_member(d, *crc, GIB);
        let m = ZipMember {
            name: "report.xml.gz",
            method: 0,
            data: &inner,
            crc: crc32fast::hash(&inner),
            size: inner.len() as u32,
        };
        case(
            "gzip_in_zip_bomb",
            "nested.zip",
            zip_archive(&[m], &[0]),
            LIMIT,
        )
    }),
    ("nested_gzip_8_layers", || {
        let mut data = report(1, "1700000000", "1700086400", "1");
        for _ in 0..8 {
            data = gz(&data);
        }
        case("nested_gzip_8_layers", "nested.gz", data, LIMIT)
    }),
    ("double_gzip_bomb", || {
        let (d, crc) = gib_of_zeros();
        let inner = gzip_member(d, *crc, GIB);
        case("double_gzip_bomb", "double.gz", gz(&inner), LIMIT)
    }),
    ("zlib_bomb", || {
        let (d, _) = gib_of_zeros();
        let mut data = vec![0x78, 0x01];
        data.extend_from_slice(d);
        let adler = ((GIB % 65521) as u32) << 16 | 1;
        data.extend_from_slice(&adler.to_be_bytes());
        case("zlib_bomb", "bomb.zlib", data, LIMIT)
    }),
    ("gzip_binary_over_budget", || {
        let data = random_bytes(80 * MIB, Some(b"\x00\x01\x02\x03\x04\x05\x06\x07"));
        case(
            "gzip_binary_over_budget",
            "junk.gz",
            gz(&data),
            &["not_a_report"],
        )
    }),
    ("xml_deep_nesting", || {
        let mut x = b"<feedback>".to_vec();
        x.extend("<a>".repeat(1_000_000).bytes());
        case("xml_deep_nesting", "deep.xml", x, LIMIT)
    }),
    ("xml_deep_nesting_streamed", || {
        let mut x = b"<feedback>".to_vec();
        x.extend("<a>".repeat(25_000_000).bytes());
        case("xml_deep_nesting_streamed", "deep-big.xml", x, LIMIT)
    }),
    ("xml_huge_value", || {
        let mut x = b"<feedback><report_metadata><org_name>".to_vec();
        x.extend(std::iter::repeat_n(b'x', 8 * MIB));
        x.extend_from_slice(b"</org_name></report_metadata></feedback>");
        case("xml_huge_value", "value.xml", x, LIMIT)
    }),
    ("xml_text_flood_streamed", || {
        let mut x = b"<feedback>".to_vec();
        x.extend(std::iter::repeat_n(b'A', 80 * MIB));
        case("xml_text_flood_streamed", "flood.xml", x, LIMIT)
    }),
    ("xml_unterminated_comment_streamed", || {
        let mut x = b"<feedback><!--".to_vec();
        x.extend(std::iter::repeat_n(b'-', 80 * MIB));
        case(
            "xml_unterminated_comment_streamed",
            "comment.xml",
            x,
            &["malformed_xml"],
        )
    }),
    ("json_deep_nesting", || {
        case(
            "json_deep_nesting",
            "deep.json",
            "[".repeat(1_000_000).into_bytes(),
            &["malformed_json"],
        )
    }),
    ("tlsrpt_huge_string", || {
        let mut x = b"{\"organization-name\":\"".to_vec();
        x.extend(std::iter::repeat_n(b'o', 8 * MIB));
        x.extend_from_slice(b"\",\"date-range\":{\"start-datetime\":\"2024-01-01T00:00:00Z\",\"end-datetime\":\"2024-01-01T23:59:59Z\"},\"report-id\":\"x\",\"policies\":[]}");
        case(
            "tlsrpt_huge_string",
            "huge.json",
            x,
            &["ok", "invalid_report"],
        )
    }),
    ("mime_deep_nesting", || {
        let mut e = b"From: a@b.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n".to_vec();
        for i in 0..3000 {
            e.extend(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .bytes(),
            );
        }
        e.extend_from_slice(b"Content-Type: text/plain\r\n\r\nhello\r\n");
        case(
            "mime_deep_nesting",
            "deep.eml",
            e,
            &["not_a_report", "mime"],
        )
    }),
    ("mime_many_parts", || {
        let mut e = b"From: a@b.example\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
        for _ in 0..1_000_000 {
            e.extend_from_slice(b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n");
        }
        e.extend_from_slice(b"--p--\r\n");
        case("mime_many_parts", "parts.eml", e, LIMIT)
    }),
    ("mime_many_report_parts", || {
        let body = dmarcflow_parse::decompress::base64_encode(&gz(&report(
            1,
            "1700000000",
            "1700086400",
            "1",
        )));
        let mut e = b"From: a@b.example\r\nSubject: many reports\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
        for _ in 0..2000 {
            e.extend(format!("--p\r\nContent-Type: application/gzip; name=\"r.xml.gz\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n").bytes());
        }
        e.extend_from_slice(b"--p--\r\n");
        Case {
            min_outcomes: 2000,
            ..case("mime_many_report_parts", "reports.eml", e, &["ok"])
        }
    }),
    ("mime_huge_header", || {
        let mut e = b"From: a@b.example\r\nSubject: ".to_vec();
        e.extend(std::iter::repeat_n(b's', 30 * MIB));
        e.extend_from_slice(b"\r\n\r\nbody\r\n");
        case(
            "mime_huge_header",
            "header.eml",
            e,
            &["not_a_report", "mime"],
        )
    }),
    ("mime_many_headers", || {
        let mut e = b"From: a@b.example\r\nSubject: headers\r\n".to_vec();
        for i in 0..4_000_000 {
            e.extend(format!("X-H{}: v\r\n", i % 97).bytes());
        }
        e.extend_from_slice(b"\r\nbody\r\n");
        case("mime_many_headers", "headers.eml", e, LIMIT)
    }),
    ("rfc822_nested", || {
        let mut e = Vec::new();
        for i in 0..500 {
            e.extend(format!("From: a{i}@b.example\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f{i}\"\r\n\r\n--f{i}\r\nContent-Type: message/rfc822\r\n\r\n").bytes());
        }
        e.extend_from_slice(b"From: z@b.example\r\nSubject: end\r\n\r\nhi\r\n");
        case("rfc822_nested", "fwd.eml", e, &["not_a_report", "mime"])
    }),
    ("xml_entity_tricks", || {
        let mut x = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">".to_vec();
        for i in 1..10 {
            x.extend(
                format!(
                    "<!ENTITY lol{i} \"{}\">",
                    format!("&lol{};", i - 1).repeat(10)
                )
                .bytes(),
            );
        }
        x.extend_from_slice(b"]>");
        let body = report(3, "1700000000", "1700086400", "1");
        let body = String::from_utf8_lossy(&body).replace(
            "<org_name>reporter.example</org_name>",
            "<org_name>&lol9;&#x110000;&#0;&#99999999999999999999;&amp;&bogus;</org_name>",
        );
        x.extend(body.trim_start_matches("<?xml version=\"1.0\"?>").bytes());
        case("xml_entity_tricks", "entities.xml", x, &["ok"])
    }),
    ("binary_junk", || {
        case(
            "binary_junk",
            "junk.bin",
            random_bytes(16 * MIB, None),
            &["not_a_report"],
        )
    }),
    ("truncated_gzip", || {
        let g = gz(&report(500, "1700000000", "1700086400", "1"));
        let half = g[..g.len() / 2].to_vec();
        case(
            "truncated_gzip",
            "half.xml.gz",
            half,
            &["decompress", "ok", "malformed_xml"],
        )
    }),
    ("truncated_zip", || {
        let xml = report(500, "1700000000", "1700086400", "1");
        let d = deflate(&xml);
        let m = ZipMember {
            name: "r.xml",
            method: 8,
            data: &d,
            crc: crc32fast::hash(&xml),
            size: xml.len() as u32,
        };
        let z = zip_archive(&[m], &[0]);
        case(
            "truncated_zip",
            "half.zip",
            z[..z.len() / 2].to_vec(),
            &["decompress"],
        )
    }),
    ("gzip_lying_size", || {
        let mut g = gz(&report(5, "1700000000", "1700086400", "1"));
        let n = g.len();
        g[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        case("gzip_lying_size", "lie.xml.gz", g, &["decompress"])
    }),
    ("invalid_base64_attachment", || {
        let e =
            b"From: a@b.example\r\nSubject: Report Domain: example.com\r\nMIME-Version: 1.0\r\n\
Content-Type: application/gzip; name=\"r.xml.gz\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
H4sI!!!!\x00\xff not base64 at all ====\r\n"
                .to_vec();
        case(
            "invalid_base64_attachment",
            "b64.eml",
            e,
            &["decompress", "not_a_report", "mime"],
        )
    }),
    ("invalid_utf8_xml", || {
        let x = String::from_utf8_lossy(&report(2, "1700000000", "1700086400", "1"))
            .replace("reporter.example</org_name>", "rep\u{FFFD}orter</org_name>");
        let bytes = x.replace('\u{FFFD}', "\u{1}").into_bytes();
        let mut bytes = bytes;
        if let Some(p) = bytes.iter().position(|&b| b == 1) {
            bytes.splice(p..p + 1, [0xff, 0xfe, 0xc3]);
        }
        case("invalid_utf8_xml", "utf8.xml", bytes, &["ok"])
    }),
    ("numbers_and_dates_out_of_range", || {
        case(
            "numbers_and_dates_out_of_range",
            "range.xml",
            report(2, "-86400", "99999999999", "99999999999999999999999"),
            &["ok"],
        )
    }),
    ("tlsrpt_dates_out_of_range", || {
        let x = b"{\"organization-name\":\"o\",\"date-range\":{\"start-datetime\":\"1900-01-01T00:00:00Z\",\
\"end-datetime\":\"2200-01-01T00:00:00Z\"},\"contact-info\":\"c\",\"report-id\":\"r\",\"policies\":[{\"policy\":\
{\"policy-type\":\"sts\",\"policy-domain\":\"example.com\"},\"summary\":{\"total-successful-session-count\":1,\
\"total-failure-session-count\":0}}]}"
            .to_vec();
        case("tlsrpt_dates_out_of_range", "dates.json", x, &["ok"])
    }),
    ("many_records_in_memory", || {
        case(
            "many_records_in_memory",
            "records.xml",
            report(250_000, "1700000000", "1700086400", "1"),
            &["ok"],
        )
    }),
    ("mbox_many_messages", || {
        let mut m = Vec::new();
        for i in 0..50_000 {
            m.extend(
                format!("From a@b Mon Jan  1 00:00:00 2024\nSubject: {i}\n\nnot a report\n")
                    .bytes(),
            );
        }
        Case {
            min_outcomes: 50_000,
            ..case("mbox_many_messages", "many.mbox", m, &["not_a_report"])
        }
    }),
    ("email_over_the_limit", || {
        let mut e = b"From: a@b.example\r\nSubject: big\r\n\r\n".to_vec();
        e.extend(std::iter::repeat_n(b'a', 70 * MIB));
        case("email_over_the_limit", "big.eml", e, LIMIT)
    }),
];
