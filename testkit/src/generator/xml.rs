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
const ESPS: &[&str] = &[
    "sendgrid.net",
    "amazonses.com",
    "mailchimpapp.net",
    "google.com",
    "outlook.com",
];
const SELECTORS: &[&str] = &["s1", "google", "selector1", "k1", "dkim2024"];

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
/// generated reports never name a real network.
fn ip(rng: &mut Rng) -> String {
    if rng.chance(15) {
        format!("2001:db8:{:x}::{:x}", rng.below(0xffff), rng.below(0xffff))
    } else {
        format!(
            "198.{}.{}.{}",
            18 + rng.below(2),
            rng.below(256),
            1 + rng.below(254)
        )
    }
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
    let dkim_pass = rng.chance(80);
    let spf_pass = rng.chance(70);
    let esp = rng.pick(ESPS);
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
        ip(rng),
        count,
        if dkim_pass { "pass" } else { "fail" },
        if spf_pass { "pass" } else { "fail" },
    )?;
    if !dkim_pass && !spf_pass && rng.chance(20) {
        write!(
            out,
            "        <reason>{nl}          <type>forwarded</type>{nl}        </reason>{nl}"
        )?;
    }
    write!(
        out,
        "      </policy_evaluated>{nl}    </row>{nl}    <identifiers>{nl}"
    )?;
    if profile == Profile::Microsoft {
        write!(
            out,
            "      <envelope_to>{}</envelope_to>{nl}      <envelope_from>{esp}</envelope_from>{nl}",
            rng.pick(DOMAINS)
        )?;
    }
    write!(
        out,
        "      <header_from>{domain}</header_from>{nl}    </identifiers>{nl}    <auth_results>{nl}"
    )?;
    let dkims = if profile == Profile::Yahoo {
        1 + rng.below(3)
    } else {
        1
    };
    for n in 0..dkims {
        let d = if n == 0 { domain } else { esp };
        write!(
            out,
            "      <dkim>{nl}        <domain>{d}</domain>{nl}        <selector>{}</selector>{nl}        <result>{}</result>{nl}      </dkim>{nl}",
            rng.pick(SELECTORS),
            if dkim_pass || n > 0 { "pass" } else { "fail" }
        )?;
    }
    write!(
        out,
        "      <spf>{nl}        <domain>{esp}</domain>{nl}        <scope>mfrom</scope>{nl}        <result>{}</result>{nl}      </spf>{nl}\
    </auth_results>{nl}  </record>{nl}",
        if spf_pass { "pass" } else { rng.pick(&["fail", "softfail", "neutral"]) }
    )
}
