//! The example report emails shipped in `examples/` (what the README's
//! first command runs on): generated, deterministic, small. Aggregate
//! reports as Google (zip), Microsoft and Yahoo (gzip) attach them and as a
//! plain XML attachment, a DMARC failure report (ARF) and an SMTP TLS
//! report (gzip), all for `example.com` between 2023-11-14 and 2023-12-14.

use std::io::Write;

use super::{email, write_report, Profile};

/// The policy domain every example reports on.
pub const DOMAIN: &str = "example.com";

/// Every example: a file name and its bytes.
pub fn examples() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut seed = 1;
    for (name, profile, records, copies) in [
        ("google-zip", Profile::Google, 40, 3),
        ("microsoft-gzip", Profile::Microsoft, 60, 3),
        ("yahoo-gzip", Profile::Yahoo, 25, 2),
    ] {
        for copy in 1..=copies {
            let (xml, s) = report_for(DOMAIN, profile, records, seed);
            seed = s + 1;
            out.push((format!("{name}-{copy}.eml"), email(profile, &xml, seed)));
        }
    }
    let (xml, _) = report_for(DOMAIN, Profile::Microsoft, 12, seed);
    out.push(("plain-xml.eml".into(), plain_xml_email(&xml)));
    out.push(("failure-arf.eml".into(), failure_email()));
    out.push(("tlsrpt-gzip.eml".into(), tlsrpt_email()));
    out
}

/// A report on `domain`: the first seed from `seed` on whose report is for
/// it (the generator picks the domain), and that seed.
fn report_for(domain: &str, profile: Profile, records: usize, seed: u64) -> (Vec<u8>, u64) {
    let wanted = format!(
        "<policy_published>{}    <domain>{domain}</domain>",
        newline(profile)
    );
    let mut seed = seed;
    loop {
        let mut xml = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = write_report(&mut xml, profile, records, seed);
        if String::from_utf8_lossy(&xml).contains(&wanted) {
            return (xml, seed);
        }
        seed += 1;
    }
}

fn newline(profile: Profile) -> &'static str {
    match profile {
        Profile::Microsoft => "\r\n",
        _ => "\n",
    }
}

/// An aggregate report attached as it is, uncompressed.
fn plain_xml_email(xml: &[u8]) -> Vec<u8> {
    let mut out = b"From: dmarc-reports@mail.example.org\r\nTo: dmarc@example.com\r\n\
Subject: Report Domain: example.com Submitter: mail.example.org\r\n\
Date: Tue, 21 Nov 2023 06:00:00 +0000\r\nMessage-ID: <plain-xml-1@mail.example.org>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"plain\"\r\n\r\n--plain\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\r\nThe attached report covers the last day.\r\n--plain\r\n\
Content-Type: text/xml; name=\"mail.example.org!example.com!1700524800!1700611199.xml\"\r\n\
Content-Disposition: attachment; filename=\"mail.example.org!example.com!1700524800!1700611199.xml\"\r\n\r\n"
        .to_vec();
    out.extend_from_slice(xml);
    out.extend_from_slice(b"\r\n--plain--\r\n");
    out
}

/// A DMARC failure report (RFC 6591 over RFC 5965): a spoofed invoice
/// from 198.51.100.77 rejected by the receiver.
fn failure_email() -> Vec<u8> {
    b"From: dmarc-failures@mail.example.net\r\nTo: ruf@example.com\r\n\
Subject: DMARC failure report for example.com\r\nDate: Mon, 20 Nov 2023 10:15:00 +0000\r\n\
Message-ID: <failure-1@mail.example.net>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\r\n\
--arf\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n\
An email claiming to be from example.com failed DMARC at mail.example.net.\r\n\r\n\
--arf\r\nContent-Type: message/feedback-report\r\n\r\n\
Feedback-Type: auth-failure\r\nUser-Agent: dmarcflow-examples/1.0\r\nVersion: 1\r\n\
Original-Mail-From: <billing@example.com>\r\nOriginal-Rcpt-To: <someone@mail.example.net>\r\n\
Arrival-Date: Mon, 20 Nov 2023 10:14:58 +0000\r\nSource-IP: 198.51.100.77\r\n\
Reported-Domain: example.com\r\n\
Authentication-Results: mx.mail.example.net; dmarc=fail (p=reject) header.from=example.com;\r\n \
spf=fail smtp.mailfrom=example.com; dkim=none\r\n\
Auth-Failure: dmarc\r\nDelivery-Result: reject\r\nIdentity-Alignment: none\r\n\r\n\
--arf\r\nContent-Type: text/rfc822-headers\r\n\r\n\
From: Billing <billing@example.com>\r\nTo: someone@mail.example.net\r\n\
Subject: Your invoice is overdue\r\nDate: Mon, 20 Nov 2023 10:14:50 +0000\r\n\
Message-ID: <spoofed-7@bulk.example.org>\r\n\r\n--arf--\r\n"
        .to_vec()
}

/// An SMTP TLS report (RFC 8460) for example.com's MTA-STS policy: most
/// sessions fine, some failing on an expired certificate and a missing
/// STARTTLS.
fn tlsrpt_email() -> Vec<u8> {
    let json = r#"{"organization-name":"Example Mail Co.","date-range":{"start-datetime":"2023-11-20T00:00:00Z","end-datetime":"2023-11-20T23:59:59Z"},"contact-info":"tlsrpt@mail.example.net","report-id":"2023-11-20T00:00:00Z_example.com","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: enforce","mx: mx1.example.com","max_age: 604800"],"policy-domain":"example.com","mx-host":["mx1.example.com"]},"summary":{"total-successful-session-count":5326,"total-failure-session-count":12},"failure-details":[{"result-type":"certificate-expired","sending-mta-ip":"198.51.100.25","receiving-mx-hostname":"mx1.example.com","receiving-ip":"203.0.113.10","failed-session-count":9},{"result-type":"starttls-not-supported","sending-mta-ip":"198.51.100.26","receiving-mx-hostname":"mx1.example.com","failed-session-count":3}]}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(json.as_bytes());
    let body = gz.finish().unwrap_or_default();
    let file = "mail.example.net!example.com!1700438400!1700524799!001.json.gz";
    format!(
        "From: tlsrpt-noreply@mail.example.net\r\nTo: tlsrpt@example.com\r\n\
Subject: Report Domain: example.com Submitter: mail.example.net Report-ID: <2023-11-20T00:00:00Z_example.com>\r\n\
Date: Tue, 21 Nov 2023 01:00:00 +0000\r\nMessage-ID: <tlsrpt-1@mail.example.net>\r\n\
TLS-Report-Domain: example.com\r\nTLS-Report-Submitter: mail.example.net\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"tls\"\r\n\r\n--tls\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\r\nThis is an aggregate TLS report from mail.example.net.\r\n--tls\r\n\
Content-Type: application/tlsrpt+gzip; name=\"{file}\"\r\n\
Content-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--tls--\r\n",
        dmarcflow_parse::decompress::base64_encode(&body)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    /// `examples/` holds exactly what the generator writes.
    #[test]
    fn the_shipped_examples_are_the_generators() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut shipped: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".eml"))
                    .collect()
            })
            .unwrap_or_default();
        shipped.sort();
        let mut generated = super::examples();
        generated.sort();
        let names: Vec<&String> = generated.iter().map(|(n, _)| n).collect();
        assert_eq!(
            shipped.iter().collect::<Vec<_>>(),
            names,
            "regenerate: cargo run -p dmarcflow-benches --bin generate -- examples examples"
        );
        for (name, bytes) in &generated {
            let on_disk = std::fs::read(dir.join(name)).unwrap_or_default();
            assert!(on_disk == *bytes, "{name} differs from the generator's");
        }
        let total: usize = generated.iter().map(|(_, b)| b.len()).sum();
        assert!(total < 300_000, "{total} bytes of examples");
    }
}
