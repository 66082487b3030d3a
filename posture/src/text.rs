//! A posture for people: one line per record kind, then the findings,
//! worst first, each with the record that fixes it.

use std::fmt::Write;

use crate::check::Posture;

pub fn render(p: &Posture) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  score {}/100, grade {}",
        p.domain, p.score, p.grade
    );
    let dmarc = match (&p.dmarc.policy, &p.dmarc.record_name) {
        (Some(policy), Some(name)) => {
            let mut line = format!("p={}", policy.as_str());
            if let Some(sp) = &p.dmarc.subdomain_policy {
                let _ = write!(line, " sp={}", sp.as_str());
            }
            if let Some(pct) = p.dmarc.pct {
                let _ = write!(line, " pct={pct}");
            }
            if p.dmarc.testing {
                line.push_str(" t=y");
            }
            let _ = write!(line, " (at {name})");
            if !p.dmarc.rua.is_empty() {
                let _ = write!(line, " rua={}", p.dmarc.rua.join(","));
            }
            line
        }
        _ => "none".to_owned(),
    };
    let _ = writeln!(out, "  DMARC    {dmarc}");
    let spf = match &p.spf.record {
        Some(_) => format!(
            "{} lookups, {} void, {}",
            p.spf.lookups,
            p.spf.void_lookups,
            p.spf.all.as_deref().unwrap_or("no all")
        ),
        None => "none".to_owned(),
    };
    let _ = writeln!(out, "  SPF      {spf}");
    for node in &p.spf.tree {
        let note = node
            .note
            .as_deref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "             {}{}{note}",
            "  ".repeat(node.depth),
            node.term
        );
    }
    let dkim: Vec<String> = p
        .dkim
        .iter()
        .map(|k| match (k.published, k.revoked, &k.key_type, k.bits) {
            (false, ..) => format!("{} missing", k.selector),
            (true, true, ..) => format!("{} revoked", k.selector),
            (true, false, kind, bits) => format!(
                "{} {}{}{}",
                k.selector,
                kind.as_deref().unwrap_or("rsa"),
                bits.map(|b| format!(" {b}")).unwrap_or_default(),
                if k.testing { " testing" } else { "" }
            ),
        })
        .collect();
    let dkim = if dkim.is_empty() {
        "no selectors known (none in reports or configured)".to_owned()
    } else {
        dkim.join(", ")
    };
    let _ = writeln!(out, "  DKIM     {dkim}");
    let sts = match (&p.mta_sts.record, &p.mta_sts.mode) {
        (None, _) => "none".to_owned(),
        (Some(_), None) => format!(
            "id={} (no valid policy)",
            p.mta_sts.id.as_deref().unwrap_or("")
        ),
        (Some(_), Some(mode)) => format!(
            "{mode}, max_age {}, mx {}{}",
            p.mta_sts.max_age.unwrap_or(0),
            p.mta_sts.mx.join(" "),
            if p.mta_sts.uncovered.is_empty() {
                String::new()
            } else {
                format!(" (not covered: {})", p.mta_sts.uncovered.join(" "))
            }
        ),
    };
    let _ = writeln!(out, "  MTA-STS  {sts}");
    let tls = if p.tlsrpt.record.is_some() {
        format!("rua={}", p.tlsrpt.rua.join(","))
    } else {
        "none".to_owned()
    };
    let _ = writeln!(out, "  TLS-RPT  {tls}");
    let bimi = match (&p.bimi.record, &p.bimi.logo) {
        (None, _) => "none".to_owned(),
        (Some(_), logo) => format!(
            "logo {}{}",
            logo.as_deref().unwrap_or("(none)"),
            if p.bimi.authority.is_some() {
                ", with a mark certificate"
            } else {
                ""
            }
        ),
    };
    let _ = writeln!(out, "  BIMI     {bimi}");
    if p.mx.is_empty() {
        let _ = writeln!(out, "  MX       none");
    }
    for (i, m) in p.mx.iter().enumerate() {
        let host = if m.host.is_empty() { "." } else { &m.host };
        let tls = match &m.tls {
            None => String::new(),
            Some(t) => match (t.starttls, &t.certificate) {
                (None, _) => format!(": not reached ({})", t.error.as_deref().unwrap_or("")),
                (Some(false), _) => ": no STARTTLS".to_owned(),
                (Some(true), None) => format!(
                    ": STARTTLS, handshake failed ({})",
                    t.error.as_deref().unwrap_or("")
                ),
                (Some(true), Some(c)) => format!(
                    ": STARTTLS {}, certificate {}{}",
                    t.tls_version.as_deref().unwrap_or("TLS"),
                    c.problem.as_deref().unwrap_or("valid"),
                    c.expires
                        .as_deref()
                        .map(|e| format!(" (not after {e})"))
                        .unwrap_or_default()
                ),
            },
        };
        let label = if i == 0 { "MX" } else { "" };
        let _ = writeln!(out, "  {label:<8} {} {host}{tls}", m.preference);
    }
    if let Some(e) = &p.enforcement {
        let next = e
            .next_step
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        if !e.verdict.is_empty() {
            let _ = writeln!(out, "  Reports  {}{next}", e.verdict.replace('_', " "));
        }
        if let Some(sts) = &e.mta_sts {
            let _ = writeln!(out, "  TLS rpts {sts}");
        }
    }
    for f in &p.findings {
        let _ = writeln!(
            out,
            "  {:<8} {}  {}",
            f.severity.as_str(),
            f.code,
            f.message
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "           publish: {fix}");
        }
    }
    out
}
