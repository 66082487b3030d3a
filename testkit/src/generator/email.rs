//! Whole report emails, attached the way each provider attaches them.

use std::io::Write;

use super::Profile;

/// How the report is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Zip,
    Gzip,
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    if w.start_file(name, options).is_err() || w.write_all(data).is_err() {
        return Vec::new();
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// A report email: Google zips, Microsoft and Yahoo gzip.
pub fn email(profile: Profile, xml: &[u8], id: u64) -> Vec<u8> {
    let (from, attachment) = match profile {
        Profile::Google => ("noreply-dmarc-support@google.com", Attachment::Zip),
        Profile::Microsoft => ("dmarcreport@microsoft.com", Attachment::Gzip),
        Profile::Yahoo => ("dmarchelp@yahooinc.com", Attachment::Gzip),
    };
    let name = format!("{from}!example.com!{id}.xml");
    let (content_type, file, body) = match attachment {
        Attachment::Zip => ("application/zip", format!("{name}.zip"), zip(&name, xml)),
        Attachment::Gzip => ("application/gzip", format!("{name}.gz"), gzip(xml)),
    };
    format!(
        "Return-Path: <{from}>\r\nFrom: {from}\r\nTo: dmarc@example.com\r\nSubject: Report Domain: example.com Submitter: {from} Report-ID: {id}\r\n\
Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <{id}@report.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b{id}\"\r\n\r\n--b{id}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
This is an aggregate report from {from}.\r\n--b{id}\r\nContent-Type: {content_type}; name=\"{file}\"\r\n\
Content-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{id}--\r\n",
        dmarcflow_parse::decompress::base64_encode(&body)
    )
    .into_bytes()
}
