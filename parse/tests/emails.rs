//! Finding reports in emails whatever the sender did, on emails built here.

use std::io::Write;

use dmarcflow_parse::{mime, Item, Parser};
use dmarcflow_schemas::Report;

const XML: &str = "<?xml version=\"1.0\"?><feedback><report_metadata><org_name>Mail Co</org_name>\
<email>d@mail.example</email><report_id>77</report_id><date_range><begin>1</begin><end>2</end></date_range>\
</report_metadata><policy_published><domain>sender.example</domain><p>none</p></policy_published>\
<record><row><source_ip>192.0.2.1</source_ip><count>4</count></row><identifiers>\
<header_from>sender.example</header_from></identifiers></record></feedback>";

const TLS: &str = r#"{"organization-name":"Mail Co","date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"t@mail.example","report-id":"t-1","policies":[{"policy":{"policy-type":"no-policy-found","policy-domain":"sender.example"},"summary":{"total-successful-session-count":9,"total-failure-session-count":0}}]}"#;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap().into_inner()
}

fn b64(data: &[u8]) -> String {
    dmarcflow_parse::decompress::base64_encode(data)
}

fn multipart(parts: &[(&str, &str, &str)]) -> String {
    let mut m = String::from(
        "From: noreply@mail.example\r\nTo: rua@sender.example\r\nSubject: Report Domain: sender.example\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n",
    );
    m.push_str("--XX\r\nContent-Type: text/plain\r\n\r\nThis is a DMARC aggregate report.\r\n");
    for (headers, encoding, body) in parts {
        m.push_str(&format!(
            "--XX\r\n{headers}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}\r\n"
        ));
    }
    m.push_str("--XX--\r\n");
    m
}

fn reports(email: &str) -> Vec<Report<'static>> {
    Parser::default()
        .parse_all(email.as_bytes(), "t")
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("rejected: {e:?}")))
        .collect()
}

fn warnings(r: &Report<'_>) -> Vec<String> {
    r.warnings().iter().map(str::to_owned).collect()
}

#[test]
fn gzip_attachment() {
    let email = multipart(&[(
        "Content-Type: application/gzip; name=\"r.xml.gz\"",
        "base64",
        &b64(&gz(XML.as_bytes())),
    )]);
    let r = reports(&email);
    assert_eq!(r.len(), 1);
    let Report::Aggregate(a) = &r[0] else {
        panic!()
    };
    assert_eq!(a.records[0].count, 4);
}

#[test]
fn octet_stream_like_amazon_ses() {
    let email = multipart(&[(
        "Content-Type: application/octet-stream",
        "base64",
        &b64(&gz(XML.as_bytes())),
    )]);
    assert_eq!(reports(&email).len(), 1);
}

#[test]
fn zip_labelled_gzip() {
    let email = multipart(&[(
        "Content-Type: application/gzip; name=\"r.xml.gz\"",
        "base64",
        &b64(&zip("r.xml", XML.as_bytes())),
    )]);
    let r = reports(&email);
    assert!(
        warnings(&r[0])
            .iter()
            .any(|w| w == "part labelled application/gzip is zip"),
        "{:?}",
        warnings(&r[0])
    );
}

#[test]
fn x_zip_compressed_and_inline_quoted_printable_xml() {
    let zipped = multipart(&[(
        "Content-Type: application/x-zip-compressed; name=\"r.zip\"",
        "base64",
        &b64(&zip("r.xml", XML.as_bytes())),
    )]);
    assert_eq!(reports(&zipped).len(), 1);
    let qp = XML.replace('=', "=3D");
    let inline = multipart(&[(
        "Content-Type: text/xml\r\nContent-Disposition: inline",
        "quoted-printable",
        &qp,
    )]);
    let r = reports(&inline);
    let Report::Aggregate(a) = &r[0] else {
        panic!()
    };
    assert_eq!(a.metadata.org_name, "Mail Co");
}

#[test]
fn top_level_gzip_body_with_trailing_bytes_like_mimecast() {
    let mut body = gz(XML.as_bytes());
    body.extend_from_slice(b"\r\n");
    let email = format!(
        "From: a@mimecast.example\r\nSubject: report\r\nMIME-Version: 1.0\r\nContent-Type: application/gzip\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        b64(&body)
    );
    let r = reports(&email);
    assert!(warnings(&r[0])
        .iter()
        .any(|w| w.starts_with("ignored 2 trailing bytes")));
}

#[test]
fn tlsrpt_json_and_gzip() {
    let json = multipart(&[("Content-Type: application/tlsrpt+json", "7bit", TLS)]);
    let gzipped = multipart(&[(
        "Content-Type: application/tlsrpt+gzip; name=\"t.json.gz\"",
        "base64",
        &b64(&gz(TLS.as_bytes())),
    )]);
    for email in [json, gzipped] {
        let r = reports(&email);
        let Report::Tlsrpt(t) = &r[0] else {
            panic!("{r:?}")
        };
        assert_eq!(t.session_totals(), (9, 0));
    }
}

#[test]
fn forwarded_report() {
    let inner = multipart(&[(
        "Content-Type: application/gzip; name=\"r.xml.gz\"",
        "base64",
        &b64(&gz(XML.as_bytes())),
    )]);
    let outer = multipart(&[("Content-Type: message/rfc822", "7bit", &inner)]);
    assert_eq!(reports(&outer).len(), 1);
}

#[test]
fn html_body_alone_is_not_a_report() {
    let email = "From: a@b.example\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n<html><body>Hello</body></html>\r\n";
    let out = Parser::default().extract(email.as_bytes(), "t");
    assert!(
        matches!(&out[..], [Err(r)] if r.error.class() == "not_a_report"),
        "{out:?}"
    );
}

#[test]
fn broken_attachment_goes_to_rejects_with_its_origin() {
    let email = multipart(&[(
        "Content-Type: application/gzip; name=\"r.xml.gz\"",
        "base64",
        &b64(b"\x1f\x8b\x08\x00broken"),
    )]);
    let out = Parser::default().extract(email.as_bytes(), "mail-1");
    match &out[..] {
        [Err(r)] => {
            assert_eq!(r.error.class(), "decompress");
            assert!(r.origin.starts_with("mail-1 > r.xml.gz"), "{}", r.origin);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mbox_messages_each_parsed() {
    let one = multipart(&[("Content-Type: text/xml", "7bit", XML)]);
    let mbox = format!(
        "From a@b Mon Jan  1 00:00:00 2024\n{one}\nFrom a@b Mon Jan  1 00:00:01 2024\n{one}\n"
    );
    let messages = mime::split_mbox(mbox.as_bytes());
    assert_eq!(messages.len(), 2);
    for m in messages {
        let items = Parser::default().extract(m, "mbox");
        assert!(matches!(&items[..], [Ok(Item::Payload(_))]), "{items:?}");
    }
}
