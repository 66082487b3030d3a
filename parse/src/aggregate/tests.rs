//! Each tolerance of the aggregate parser, on fixtures written for it.

use std::borrow::Cow;
use std::io::Read;

use dmarcflow_schemas::aggregate::{
    Alignment, DiscoveryMethod, Disposition, DkimResult, DmarcResult, OverrideReason, PolicyAction,
    SpfResult, SpfScope, Testing,
};

use super::*;
use crate::{stream_aggregate, Limits, Parser};

const RECORD: &str = "<record><row><source_ip>192.0.2.10</source_ip><count>3</count>\
<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>\
<identifiers><header_from>example.com</header_from></identifiers>\
<auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>\
<spf><domain>bounce.example.com</domain><scope>mfrom</scope><result>fail</result></spf></auth_results></record>";

fn report(records: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback><version>1.0</version><report_metadata>\
<org_name>Example Org</org_name><email>dmarc@example.org</email><report_id>r-1</report_id>\
<date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>\
<policy_published><domain>example.com</domain><adkim>r</adkim><aspf>s</aspf><p>reject</p><sp>quarantine</sp>\
<pct>100</pct><fo>1</fo></policy_published>{records}</feedback>"
    )
}

#[test]
fn plain_report_borrows_its_text() {
    let xml = report(RECORD);
    let r = parse_aggregate(&xml).unwrap();
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.metadata.org_name, "Example Org");
    assert!(matches!(r.metadata.org_name, Cow::Borrowed(_)));
    assert!(matches!(r.records[0].header_from, Cow::Borrowed(_)));
    assert_eq!(r.metadata.begin, 1_700_000_000);
    let p = &r.policy_published;
    assert_eq!(p.adkim, Some(Alignment::Relaxed));
    assert_eq!(p.aspf, Some(Alignment::Strict));
    assert_eq!(p.p, Some(PolicyAction::Reject));
    assert_eq!(p.sp, Some(PolicyAction::Quarantine));
    assert_eq!(p.pct, Some(100));
    let rec = &r.records[0];
    assert_eq!(rec.source_ip, "192.0.2.10");
    assert_eq!(rec.count, 3);
    assert_eq!(rec.disposition, Some(Disposition::None));
    assert_eq!(rec.dkim, Some(DmarcResult::Pass));
    assert_eq!(rec.spf, Some(DmarcResult::Fail));
    assert_eq!(rec.dkim_results[0].selector.as_deref(), Some("s1"));
    assert_eq!(rec.spf_results[0].scope, Some(SpfScope::MailFrom));
    assert_eq!(rec.spf_results[0].result, SpfResult::Fail);
    assert_eq!(r.id.len(), 32);
}

#[test]
fn bom_no_declaration_and_leading_white_space() {
    let body = report(RECORD);
    let bare = body.split_once("?>\n").unwrap().1;
    for input in [
        format!("\u{feff}{body}"),
        bare.to_owned(),
        format!("  \r\n{body}"),
    ] {
        let reports = Parser::default().parse_all(input.as_bytes(), "t");
        let Ok(dmarcflow_schemas::Report::Aggregate(r)) = &reports[0] else {
            panic!("{reports:?}")
        };
        assert_eq!(r.records.len(), 1);
    }
    let spaced = Parser::default().parse_all(format!("  \r\n{body}").as_bytes(), "t");
    assert!(spaced[0]
        .as_ref()
        .unwrap()
        .warnings()
        .has("white space before the XML declaration"));
}

#[test]
fn declared_single_byte_encodings() {
    for label in ["windows-1252", "ISO-8859-1"] {
        let mut xml = report(RECORD).replace("UTF-8", label).into_bytes();
        let at = xml.windows(11).position(|w| w == b"Example Org").unwrap();
        xml.splice(at..at + 11, b"Soci\xe9t\xe9".iter().copied());
        let reports = Parser::default().parse_all(&xml, "t");
        let Ok(dmarcflow_schemas::Report::Aggregate(r)) = &reports[0] else {
            panic!("{reports:?}")
        };
        assert_eq!(r.metadata.org_name, "Soci\u{e9}t\u{e9}");
        assert!(r.warnings.has("converted from declared encoding"));
    }
}

#[test]
fn mixed_case_and_synonyms_are_read_and_noted() {
    let rec = RECORD
        .replace("<disposition>none", "<disposition>None")
        .replace("<dkim>pass</dkim>", "<dkim>PASS</dkim>")
        .replace(
            "<result>fail</result></spf>",
            "<result>hardfail</result></spf>",
        );
    let xml = report(&rec);
    let r = parse_aggregate_owned(&xml);
    let rec = &r.records[0];
    assert_eq!(rec.disposition, Some(Disposition::None));
    assert_eq!(rec.dkim, Some(DmarcResult::Pass));
    assert_eq!(rec.spf_results[0].result, SpfResult::Fail);
    assert!(r.warnings.has("non-canonical value \"None\""));
    assert!(r.warnings.has("non-standard value \"hardfail\""));
}

fn parse_aggregate_owned(xml: &str) -> dmarcflow_schemas::AggregateReport<'_> {
    parse_aggregate(xml).unwrap()
}

#[test]
fn unknown_values_kept_verbatim() {
    let rec = RECORD.replace(
        "<result>pass</result></dkim>",
        "<result>partial</result></dkim>",
    );
    let xml = report(&rec).replace("<p>reject</p>", "<p>monitor</p>");
    let r = parse_aggregate(&xml).unwrap();
    assert_eq!(
        r.records[0].dkim_results[0].result,
        DkimResult::Other("partial".into())
    );
    assert_eq!(
        r.policy_published.p,
        Some(PolicyAction::Other("monitor".into()))
    );
    assert!(r.warnings.has("unknown value \"partial\""));
}

#[test]
fn missing_optional_elements() {
    let xml = "<feedback><report_metadata><org_name>o</org_name><email>e@o</email><report_id>1</report_id>\
<date_range><begin>1</begin><end>2</end></date_range></report_metadata>\
<policy_published><domain>d.example</domain><p>none</p></policy_published>\
<record><row><source_ip>2001:db8::1</source_ip><count>1</count><policy_evaluated><disposition>none</disposition>\
</policy_evaluated></row><identifiers><header_from>d.example</header_from></identifiers><auth_results/></record></feedback>";
    let r = parse_aggregate(xml).unwrap();
    let rec = &r.records[0];
    assert_eq!(rec.dkim, None);
    assert!(rec.dkim_results.is_empty() && rec.spf_results.is_empty());
    assert_eq!(r.policy_published.adkim, None);
    assert_eq!(r.policy_published.sp, None);
    assert_eq!(r.version, None);
}

#[test]
fn unusual_order() {
    // Policy after the records, identifiers before the row, metadata last.
    let xml = "<feedback><record><identifiers><header_from>d.example</header_from></identifiers>\
<row><count>2</count><source_ip>192.0.2.1</source_ip></row></record>\
<policy_published><p>none</p><domain>d.example</domain></policy_published>\
<report_metadata><report_id>z</report_id><date_range><end>20</end><begin>10</begin></date_range>\
<email>e@o.example</email><org_name>o</org_name></report_metadata></feedback>";
    let r = parse_aggregate(xml).unwrap();
    assert_eq!(r.records[0].count, 2);
    assert_eq!(r.records[0].header_from, "d.example");
    assert_eq!(r.policy_published.domain, "d.example");
    assert_eq!((r.metadata.begin, r.metadata.end), (10, 20));
}

#[test]
fn several_auth_results_and_override_reasons() {
    let rec = "<record><row><source_ip>192.0.2.1</source_ip><count>5</count><policy_evaluated>\
<disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>\
<reason><type>forwarded</type><comment>list</comment></reason><reason><type>local_policy</type></reason>\
</policy_evaluated></row><identifiers><header_from>a.example</header_from><envelope_from>b.example</envelope_from>\
<envelope_to>c.example</envelope_to></identifiers><auth_results>\
<dkim><domain>a.example</domain><result>fail</result><human_result>bad sig</human_result></dkim>\
<dkim><domain>esp.example</domain><selector>k2</selector><result>pass</result></dkim>\
<spf><domain>b.example</domain><scope>helo</scope><result>softfail</result></spf>\
<spf><domain>b2.example</domain><result>temperror</result></spf></auth_results></record>";
    let xml = report(rec);
    let r = parse_aggregate_owned(&xml);
    let rec = &r.records[0];
    assert_eq!(rec.reasons.len(), 2);
    assert_eq!(rec.reasons[0].kind, Some(OverrideReason::Forwarded));
    assert_eq!(rec.reasons[0].comment.as_deref(), Some("list"));
    assert_eq!(rec.reasons[1].kind, Some(OverrideReason::LocalPolicy));
    assert_eq!(rec.dkim_results.len(), 2);
    assert_eq!(rec.dkim_results[0].human_result.as_deref(), Some("bad sig"));
    assert_eq!(rec.dkim_results[1].result, DkimResult::Pass);
    assert_eq!(rec.spf_results[0].scope, Some(SpfScope::Helo));
    assert_eq!(rec.spf_results[0].result, SpfResult::SoftFail);
    assert_eq!(rec.spf_results[1].result, SpfResult::TempError);
    assert_eq!(rec.envelope_to.as_deref(), Some("c.example"));
}

#[test]
fn report_id_normalised_like_parsedmarc() {
    let xml = report(RECORD).replace(
        "<report_id>r-1</report_id>",
        "<report_id>&lt;abc.123@mx.example&gt;</report_id>",
    );
    let r = parse_aggregate(&xml).unwrap();
    assert_eq!(r.metadata.report_id, "abc.123");
    assert_eq!(
        r.metadata.report_id_raw.as_deref(),
        Some("<abc.123@mx.example>")
    );
    assert!(r.warnings.has("report id normalised"));
}

#[test]
fn rfc9990_elements() {
    let xml = "<?xml version=\"1.0\"?><feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\"><version>1.0</version>\
<report_metadata><org_name>o</org_name><email>e@o.example</email><report_id>9</report_id>\
<date_range><begin>1</begin><end>2</end></date_range><generator>Gen 1.2</generator></report_metadata>\
<policy_published><domain>d.example</domain><p>quarantine</p><sp>none</sp><np>reject</np><testing>y</testing>\
<discovery_method>treewalk</discovery_method></policy_published>\
<record><row><source_ip>192.0.2.1</source_ip><count>1</count><policy_evaluated><disposition>pass</disposition>\
</policy_evaluated></row><identifiers><header_from>d.example</header_from></identifiers>\
<auth_results><dkim><domain>d.example</domain><result>pass</result><human_result>ok</human_result></dkim></auth_results>\
<extensions><extension name=\"x\" definition=\"https://spec.example/x\"><data a=\"1\">v &amp; w</data></extension></extensions>\
</record><extensions><extension name=\"top\"><flag/></extension></extensions></feedback>";
    let r = parse_aggregate(xml).unwrap();
    assert_eq!(
        r.namespace.as_deref(),
        Some("urn:ietf:params:xml:ns:dmarc-2.0")
    );
    assert_eq!(r.metadata.generator.as_deref(), Some("Gen 1.2"));
    let p = &r.policy_published;
    assert_eq!(p.np, Some(PolicyAction::Reject));
    assert_eq!(p.testing, Some(Testing::Yes));
    assert_eq!(p.discovery_method, Some(DiscoveryMethod::Treewalk));
    let rec = &r.records[0];
    assert_eq!(rec.disposition, Some(Disposition::Pass));
    assert_eq!(rec.extensions.len(), 1);
    assert_eq!(rec.extensions[0].name.as_deref(), Some("x"));
    assert_eq!(rec.extensions[0].xml, "<extension name=\"x\" definition=\"https://spec.example/x\"><data a=\"1\">v &amp; w</data></extension>");
    assert_eq!(
        r.extensions[0].xml,
        "<extension name=\"top\"><flag/></extension>"
    );
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn entities_cdata_and_prefixes() {
    let xml = "<d:feedback xmlns:d=\"urn:x\"><d:report_metadata><d:org_name>AT &amp; T &#x2713;</d:org_name>\
<d:email><![CDATA[a@b.example]]></d:email><d:report_id>1</d:report_id></d:report_metadata>\
<d:policy_published><d:domain>x.example</d:domain></d:policy_published></d:feedback>";
    let r = parse_aggregate(xml).unwrap();
    assert_eq!(r.metadata.org_name, "AT & T \u{2713}");
    assert_eq!(r.metadata.email, "a@b.example");
    assert_eq!(r.policy_published.domain, "x.example");
}

#[test]
fn recovers_missing_closing_tags_and_truncation() {
    let two = format!("{RECORD}{RECORD}");
    let xml = report(&two).replace("</report_metadata>", "");
    let r = parse_aggregate(&xml).unwrap();
    assert_eq!(r.records.len(), 2);
    assert_eq!(r.policy_published.domain, "example.com");

    let full = report(&two);
    let cut = &full[..full.rfind("<auth_results>").unwrap()];
    let r = parse_aggregate(cut).unwrap();
    assert_eq!(r.records.len(), 2, "the truncated record is kept, flagged");
    assert!(r.warnings.has("document truncated"));
}

#[test]
fn untrimmed_values_and_empty_elements() {
    let xml = report(RECORD)
        .replace("<p>reject</p>", "<p>\n  reject \n</p>")
        .replace("<sp>quarantine</sp>", "<sp/>");
    let r = parse_aggregate(&xml).unwrap();
    assert_eq!(r.policy_published.p, Some(PolicyAction::Reject));
    assert_eq!(r.policy_published.sp, None);
    assert!(r.warnings.has("white space around element values trimmed"));
}

#[test]
fn empty_org_name_named_after_email_domain() {
    let xml = report(RECORD).replace("<org_name>Example Org</org_name>", "<org_name></org_name>");
    let r = parse_aggregate(&xml).unwrap();
    assert_eq!(r.metadata.org_name, "example.org");
}

#[test]
fn errors_are_typed() {
    assert!(matches!(
        parse_aggregate("<html><body/></html>"),
        Err(crate::ParseError::NotDmarc(_))
    ));
    assert!(matches!(
        parse_aggregate("just text"),
        Err(crate::ParseError::NotDmarc(_))
    ));
    assert!(matches!(
        parse_aggregate(
            "<feedback><report_metadata><org_name>x</org_name></report_metadata></feedback>"
        ),
        Err(crate::ParseError::InvalidReport(_))
    ));
    assert!(matches!(
        parse_aggregate("<feedback><a b=\"></feedback>"),
        Err(crate::ParseError::MalformedXml { .. })
    ));
}

#[test]
fn identity_ignores_container_and_formatting() {
    let a = parse_aggregate_owned(&report(RECORD)).id.clone();
    let pretty = report(RECORD).replace("><", ">\n  <");
    let b = parse_aggregate_owned(&pretty).id.clone();
    assert_eq!(a, b);
    let other = report(RECORD).replace("r-1", "r-2");
    assert_ne!(a, parse_aggregate_owned(&other).id);
}

/// A reader that counts how far the parser has read.
struct Counting<'a> {
    data: &'a [u8],
    pos: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.pos.get();
        let n = buf.len().min(self.data.len() - at).min(4096);
        buf[..n].copy_from_slice(&self.data[at..at + n]);
        self.pos.set(at + n);
        Ok(n)
    }
}

#[test]
fn streams_records_incrementally() {
    let records: String = (0..5000).map(|_| RECORD).collect();
    let xml = report(&records);
    let pos = std::rc::Rc::new(std::cell::Cell::new(0));
    let reader = std::io::BufReader::with_capacity(
        4096,
        Counting {
            data: xml.as_bytes(),
            pos: pos.clone(),
        },
    );
    let mut parser = stream_aggregate(reader, Limits::default()).unwrap();
    let first = parser.next().unwrap();
    assert_eq!(first.count, 3);
    assert!(
        pos.get() < xml.len() / 10,
        "read {} of {} before the first record",
        pos.get(),
        xml.len()
    );
    let rest = parser.by_ref().count();
    assert_eq!(rest, 4999);
    let header = parser.finish().unwrap();
    assert_eq!(header.metadata.report_id, "r-1");
    assert_eq!(header.id, parse_aggregate_owned(&report(RECORD)).id);
}

#[test]
fn stream_of_gzip() {
    use std::io::Write;
    let xml = report(&RECORD.repeat(10));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(xml.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let mut parser = stream_aggregate(&gz[..], Limits::default()).unwrap();
    assert_eq!(parser.by_ref().count(), 10);
    assert_eq!(parser.finish().unwrap().metadata.org_name, "Example Org");
}

#[test]
fn stream_with_tiny_reads_equals_in_memory() {
    let xml = report(&RECORD.repeat(3));
    let in_memory = parse_aggregate_owned(&xml).records.clone();
    for cap in [1, 7, 64, 4096] {
        let mut parser = stream_aggregate(
            std::io::BufReader::with_capacity(cap, xml.as_bytes()),
            Limits::default(),
        )
        .unwrap();
        let streamed: Vec<_> = parser.by_ref().collect();
        assert_eq!(streamed, in_memory, "read size {cap}");
        assert!(parser.finish().is_ok());
    }
}

/// A reader that hands out a few bytes at a time (after a first read long
/// enough to tell what the input is).
struct Trickle<'a>(&'a [u8], usize, bool);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let step = if std::mem::replace(&mut self.2, true) {
            self.1
        } else {
            64
        };
        let n = buf.len().min(self.0.len()).min(step);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn stream_keeps_characters_split_across_reads() {
    let records: String = (0..50)
        .map(|_| RECORD.replace("example.com", "bücher-ß.example"))
        .collect();
    let xml = format!("\u{feff}{}", report(&records));
    for chunk in [1, 2, 3, 7, 64] {
        let reader = std::io::BufReader::with_capacity(64, Trickle(xml.as_bytes(), chunk, false));
        let mut parser = stream_aggregate(reader, Limits::default()).unwrap();
        let streamed: Vec<_> = parser.by_ref().collect();
        assert_eq!(streamed.len(), 50);
        assert!(streamed.iter().all(|r| r.header_from.contains("bücher-ß")));
        assert_eq!(parser.finish().unwrap().metadata.report_id, "r-1");
    }
    // An invalid byte is replaced, not fatal, whatever the read size.
    let mut bad = report(RECORD).into_bytes();
    let at = memchr::memmem::find(&bad, b"<header_from>").unwrap() + 15;
    bad[at] = 0xff;
    let reader = std::io::BufReader::with_capacity(64, Trickle(&bad, 5, false));
    let records: Vec<_> = stream_aggregate(reader, Limits::default())
        .unwrap()
        .collect();
    assert_eq!(records.len(), 1);
    assert!(records[0].header_from.contains('\u{fffd}'));
}
