//! Aggregate report XML in the shapes real providers send.

use std::io::{self, Write};

use super::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Google,
    Microsoft,
    Yahoo,
}

const DOMAINS: &[&str] = &[
    "example.com",
    "shop.example.com",
    "news.example.com",
    "example.net",
];
const SELECTORS: &[&str] = &["s1", "google", "selector1", "k1", "dkim2024"];

/// Who a record's mail came from, and so what its authentication says:
/// the traffic a domain's reports show on the way from p=none to
/// p=reject (each class of `dmarcflow_enforce` appears).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Traffic {
    /// The domain's own mail servers: DKIM and SPF aligned.
    Own,
    /// An ESP set up for the domain: signs d=<domain> (and its own d=),
    /// bounces from a subdomain: aligned.
    EspAligned,
    /// An ESP not set up: signs and bounces with its own domain only
    /// (misaligned: a configuration to fix).
    EspMisaligned,
    /// A forwarder: the domain's signature survives, SPF fails.
    Forwarded,
    /// A mailing list: the footer breaks the signature; the receiver may
    /// say `mailing_list`.
    MailingList,
    /// Spoofing: nothing authenticates.
    Spoofed,
}

/// Each kind of traffic's share (percent) and the ESP domains seen.
const TRAFFIC: [(Traffic, u64); 6] = [
    (Traffic::Own, 45),
    (Traffic::EspAligned, 20),
    (Traffic::EspMisaligned, 10),
    (Traffic::Forwarded, 10),
    (Traffic::MailingList, 5),
    (Traffic::Spoofed, 10),
];
/// (DKIM d=, bounce domain) of the ESPs in generated traffic.
const ESPS: &[(&str, &str)] = &[
    ("sendgrid.net", "sendgrid.net"),
    ("amazonses.com", "us-east-1.amazonses.com"),
    ("mcsv.net", "mail182.atl11.mcsv.net"),
];

/// A record's policy-evaluated DKIM and SPF, its DKIM signatures (domain,
/// result), and its SPF check (domain, result).
type Authentication<'a> = (bool, bool, Vec<(&'a str, &'a str)>, (String, &'a str));

fn traffic(rng: &mut Rng) -> Traffic {
    let mut roll = rng.below(100);
    for (kind, share) in TRAFFIC {
        if roll < share {
            return kind;
        }
        roll -= share;
    }
    Traffic::Own
}

impl Profile {
    fn org(self) -> (&'static str, &'static str) {
        match self {
            Profile::Google => ("google.com", "noreply-dmarc-support@google.com"),
            Profile::Microsoft => ("Outlook.com", "dmarcreport@microsoft.com"),
            Profile::Yahoo => ("Yahoo", "dmarchelp@yahooinc.com"),
        }
    }

    fn newline(self) -> &'static str {
        if self == Profile::Microsoft {
            "\r\n"
        } else {
            "\n"
        }
    }
}

/// A source address in ranges reserved for documentation and benchmarks
/// (2001:db8::/32, and 198.18.0.0/15 of RFC 2544: 131,072 addresses), so
/// generated reports never name a real network. Each kind of traffic
/// sends from a few addresses of its own (the same senders day after day);
/// spoofing from anywhere.
fn ip(kind: Traffic, esp: u64, rng: &mut Rng) -> String {
    let (third, hosts) = match kind {
        Traffic::Own if rng.chance(15) => {
            return format!("2001:db8:1::{:x}", 1 + rng.below(4));
        }
        Traffic::Own => (1, 8),
        Traffic::EspAligned | Traffic::EspMisaligned => (20 + esp, 16),
        Traffic::Forwarded => (40, 4),
        Traffic::MailingList => (41, 2),
        Traffic::Spoofed if rng.chance(15) => {
            return format!("2001:db8:{:x}::{:x}", rng.below(0xffff), rng.below(0xffff));
        }
        Traffic::Spoofed => {
            return format!("198.19.{}.{}", rng.below(256), 1 + rng.below(254));
        }
    };
    format!("198.18.{third}.{}", 1 + rng.below(hosts))
}

/// Writes one report with `records` records: memory stays flat however many.
pub fn write_report<W: Write>(
    out: &mut W,
    profile: Profile,
    records: usize,
    seed: u64,
) -> io::Result<()> {
    write_report_salted(out, profile, records, seed, 0)
}

/// The same report under another report id (`id_salt` mixed into it): the
/// same sources, as the next day's report from the same senders names.
pub fn write_report_salted<W: Write>(
    out: &mut W,
    profile: Profile,
    records: usize,
    seed: u64,
    id_salt: u64,
) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let nl = profile.newline();
    let (org, email) = profile.org();
    let domain = rng.pick(DOMAINS);
    // The last month: what a day's mail brings (reports cover yesterday, some a bit older).
    let begin = 1_700_000_000 + rng.below(30) * 86_400;
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>{nl}<feedback>{nl}"
    )?;
    if profile == Profile::Microsoft {
        write!(out, "  <version>1.0</version>{nl}")?;
    }
    write!(
        out,
        "  <report_metadata>{nl}    <org_name>{org}</org_name>{nl}    <email>{email}</email>{nl}\
    <report_id>{}</report_id>{nl}    <date_range>{nl}      <begin>{begin}</begin>{nl}      <end>{}</end>{nl}\
    </date_range>{nl}  </report_metadata>{nl}",
        rng.next_u64() ^ id_salt,
        begin + 86_399
    )?;
    write!(
        out,
        "  <policy_published>{nl}    <domain>{domain}</domain>{nl}    <adkim>r</adkim>{nl}    <aspf>r</aspf>{nl}\
    <p>{}</p>{nl}    <sp>none</sp>{nl}    <pct>100</pct>{nl}",
        rng.pick(&["none", "quarantine", "reject"])
    )?;
    if profile == Profile::Google {
        write!(out, "    <np>none</np>{nl}")?;
    }
    write!(out, "  </policy_published>{nl}")?;
    for _ in 0..records {
        write_record(out, profile, domain, &mut rng)?;
    }
    write!(out, "</feedback>{nl}")
}

fn write_record<W: Write>(
    out: &mut W,
    profile: Profile,
    domain: &str,
    rng: &mut Rng,
) -> io::Result<()> {
    let nl = profile.newline();
    let kind = traffic(rng);
    let esp = rng.below(ESPS.len() as u64);
    let (esp_d, esp_bounce) = ESPS[esp as usize];
    // (policy DKIM, policy SPF, the DKIM signatures, the SPF domain and result)
    let (dkim_pass, spf_pass, signatures, spf): Authentication<'_> = match kind {
        Traffic::Own => (
            true,
            true,
            vec![(domain, "pass")],
            (domain.to_owned(), "pass"),
        ),
        Traffic::EspAligned => (
            true,
            true,
            vec![(domain, "pass"), (esp_d, "pass")],
            (format!("em{}.{domain}", 100 + rng.below(900)), "pass"),
        ),
        Traffic::EspMisaligned => (
            false,
            false,
            vec![(esp_d, "pass")],
            (esp_bounce.to_owned(), "pass"),
        ),
        Traffic::Forwarded => (
            true,
            false,
            vec![(domain, "pass")],
            (
                "forwarder.example.net".to_owned(),
                rng.pick(&["fail", "softfail", "neutral"]),
            ),
        ),
        Traffic::MailingList => (
            false,
            false,
            vec![(domain, "fail")],
            ("lists.example.org".to_owned(), "pass"),
        ),
        Traffic::Spoofed => (
            false,
            false,
            Vec::new(),
            (domain.to_owned(), rng.pick(&["fail", "softfail"])),
        ),
    };
    let big = rng.chance(10);
    let count = 1 + rng.below(if big { 5000 } else { 20 });
    let disposition = if dkim_pass || spf_pass {
        "none"
    } else {
        rng.pick(&["none", "quarantine", "reject"])
    };
    write!(
        out,
        "  <record>{nl}    <row>{nl}      <source_ip>{}</source_ip>{nl}      <count>{}</count>{nl}\
      <policy_evaluated>{nl}        <disposition>{disposition}</disposition>{nl}        <dkim>{}</dkim>{nl}\
        <spf>{}</spf>{nl}",
        ip(kind, esp, rng),
        count,
        if dkim_pass { "pass" } else { "fail" },
        if spf_pass { "pass" } else { "fail" },
    )?;
    if kind == Traffic::MailingList && rng.chance(50) {
        write!(
            out,
            "        <reason>{nl}          <type>mailing_list</type>{nl}        </reason>{nl}"
        )?;
    }
    write!(
        out,
        "      </policy_evaluated>{nl}    </row>{nl}    <identifiers>{nl}"
    )?;
    if profile == Profile::Microsoft {
        write!(
            out,
            "      <envelope_to>{}</envelope_to>{nl}      <envelope_from>{}</envelope_from>{nl}",
            rng.pick(DOMAINS),
            spf.0
        )?;
    }
    write!(
        out,
        "      <header_from>{domain}</header_from>{nl}    </identifiers>{nl}    <auth_results>{nl}"
    )?;
    for (d, result) in signatures {
        write!(
            out,
            "      <dkim>{nl}        <domain>{d}</domain>{nl}        <selector>{}</selector>{nl}        <result>{result}</result>{nl}      </dkim>{nl}",
            rng.pick(SELECTORS),
        )?;
    }
    write!(
        out,
        "      <spf>{nl}        <domain>{}</domain>{nl}        <scope>mfrom</scope>{nl}        <result>{}</result>{nl}      </spf>{nl}\
    </auth_results>{nl}  </record>{nl}",
        spf.0, spf.1
    )
}
