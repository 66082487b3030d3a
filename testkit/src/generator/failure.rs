//! Failure reports (RFC 6591 over RFC 5965) whose personal fields are
//! made of distinctive words ([`MARKERS`]), for the tests that look for
//! them wherever a report's data lands, and for the privacy bench.
//!
//! Every personal field carries a marker: the envelope and header
//! addresses' local parts, the display name, the subject (of the message
//! and of the report email), the Message-ID, the envelope id, the body. No
//! domain does: domains stay clear in every privacy mode.

/// Words no report, key or encoding produces by chance (8 letters or
/// more: a base64 or compressed stream holds one by chance about once in
/// 10^14 positions).
pub const MARKERS: &[&str] = &[
    "quokkaxq",
    "pangolinrcpt",
    "percivalname",
    "marmaladex",
    "quilliamx",
    "wombatmsgid",
    "okapienvid",
    "zanzibarbody",
];

/// How many senders the reports share.
pub const SENDERS: usize = 5;

/// The `n`th failure report email: a DMARC auth-failure report with the
/// whole message returned (`message/rfc822`). Its sender is one of five
/// (`quokkaxq{n % 5}@example.com`), so reports share senders; everything
/// else is the report's own.
pub fn failure_email(n: usize) -> Vec<u8> {
    arf_email(n, "auth-failure")
}

/// An ARF email of another feedback type (`abuse`): not a DMARC failure
/// report, so ingest rejects it whole, into the dead letters.
pub fn abuse_email(n: usize) -> Vec<u8> {
    arf_email(n, "abuse")
}

fn arf_email(n: usize, feedback_type: &str) -> Vec<u8> {
    let minute = n % 60;
    let sender = n % SENDERS;
    format!(
        "From: dmarc-failures@mail.receiver.example\r\n\
To: ruf@example.com\r\n\
Subject: DMARC failure report for example.com: Marmaladex invoice {n}\r\n\
Date: Mon, 20 Nov 2023 10:{minute:02}:00 +0000\r\n\
Message-ID: <failure-{n}-{feedback_type}@mail.receiver.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf\"\r\n\
\r\n\
--arf\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
A message from quokkaxq{sender}@example.com to pangolinrcpt{n}@receiver.example failed DMARC.\r\n\
\r\n\
--arf\r\n\
Content-Type: message/feedback-report\r\n\
\r\n\
Feedback-Type: {feedback_type}\r\n\
User-Agent: dmarcflow-testkit/1.0\r\n\
Version: 1\r\n\
Original-Mail-From: <quokkaxq{sender}@example.com>\r\n\
Original-Rcpt-To: <pangolinrcpt{n}@receiver.example>\r\n\
Original-Envelope-Id: okapienvid{n}\r\n\
Arrival-Date: Mon, 20 Nov 2023 10:{minute:02}:00 +0000\r\n\
Source-IP: 198.51.100.{host}\r\n\
Reported-Domain: example.com\r\n\
Authentication-Results: mx.receiver.example; dmarc=fail (p=reject) header.from=example.com;\r\n \
spf=fail smtp.mailfrom=quokkaxq{sender}@example.com; dkim=none\r\n\
Auth-Failure: dmarc\r\n\
Delivery-Result: reject\r\n\
Identity-Alignment: none\r\n\
\r\n\
--arf\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Received: from bulk.example.org by mx.receiver.example for <pangolinrcpt{n}@receiver.example>;\r\n \
Mon, 20 Nov 2023 10:{minute:02}:00 +0000\r\n\
Authentication-Results: mx.receiver.example; spf=fail smtp.mailfrom=quokkaxq{sender}@example.com\r\n\
From: Percivalname Quokka <quokkaxq{sender}@example.com>\r\n\
To: Pangolin <pangolinrcpt{n}@receiver.example>\r\n\
Subject: Marmaladex invoice {n} for Quilliamx\r\n\
Date: Mon, 20 Nov 2023 10:{minute:02}:00 +0000\r\n\
Message-ID: <wombatmsgid{n}@example.com>\r\n\
\r\n\
Zanzibarbody {n}: please pay the attached invoice.\r\n\
\r\n\
--arf--\r\n",
        host = 1 + n % 250,
    )
    .into_bytes()
}

/// Whether `bytes` hold any marker (any case).
pub fn holds_marker(bytes: &[u8]) -> Option<&'static str> {
    let lower = bytes.to_ascii_lowercase();
    MARKERS
        .iter()
        .copied()
        .find(|m| memchr::memmem::find(&lower, m.as_bytes()).is_some())
}
