//! The aggregate report state machine: XML events in, records out one at a
//! time, the report header completed at the end.
//!
//! It tracks the open elements itself instead of trusting the document: a
//! missing closing tag is recovered from the next matching one, a stray one is
//! ignored, and each such repair becomes a warning.

use std::borrow::Cow;
use std::collections::VecDeque;

use dmarcflow_schemas::aggregate::{
    DkimAuth, DkimResult, Extension, PolicyOverride, Record, SpfAuth, SpfResult,
};
use dmarcflow_schemas::AggregateReport;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::events::EventSource;
use super::fields::{enum_value, source_ip, text, timestamp, trim, unsigned};
use super::finish::finish_header;
use super::tag::Tag;
use crate::ParseError;

/// An open element.
struct Frame {
    tag: Tag,
    /// The name, kept only for unknown elements.
    name: Option<Box<str>>,
    /// An element around `<feedback>` (IKEA sends one inside `<xs:schema>`).
    wrapper: bool,
}

/// An `<extension>` being copied verbatim.
struct Capture<'x> {
    depth: usize,
    in_record: bool,
    ext: Extension<'x>,
    xml: String,
}

#[derive(Default)]
struct AuthBuilder<'x> {
    domain: Option<Cow<'x, str>>,
    selector: Option<Cow<'x, str>>,
    scope: Option<Cow<'x, str>>,
    result: Option<Cow<'x, str>>,
    human_result: Option<Cow<'x, str>>,
}

/// Parses one aggregate report incrementally: iterate for the records, then
/// call [`AggregateParser::finish`] for the header (metadata, policy) and any
/// error. Memory stays at one record whatever the report's size.
pub struct AggregateParser<'x, S> {
    src: S,
    stack: Vec<Frame>,
    text: Option<Cow<'x, str>>,
    header: AggregateReport<'x>,
    record: Option<Record<'x>>,
    auth: Option<AuthBuilder<'x>>,
    reason: Option<PolicyOverride<'x>>,
    capture: Option<Capture<'x>>,
    ready: VecDeque<Record<'x>>,
    pub(crate) seen: Seen,
    error: Option<ParseError>,
    done: bool,
}

/// What the document had, for the checks at the end.
#[derive(Default)]
pub(crate) struct Seen {
    pub root: bool,
    /// The first element, when it was not `<feedback>`.
    pub outer: Option<String>,
    pub date_range: bool,
    pub records: u64,
}

impl<'x, S: EventSource<'x>> AggregateParser<'x, S> {
    pub fn new(src: S) -> Self {
        Self {
            src,
            stack: Vec::with_capacity(16),
            text: None,
            header: AggregateReport::empty(),
            record: None,
            auth: None,
            reason: None,
            capture: None,
            ready: VecDeque::new(),
            seen: Seen::default(),
            error: None,
            done: false,
        }
    }

    /// Adds warnings found before parsing (decompression, encoding).
    pub fn with_warnings<I: IntoIterator<Item = String>>(mut self, warnings: I) -> Self {
        for w in warnings {
            self.header.warnings.push(w);
        }
        self
    }

    /// The report header, once the records are consumed; an error if the
    /// document was not a usable aggregate report.
    pub fn finish(mut self) -> Result<AggregateReport<'x>, ParseError> {
        while self.next().is_some() {}
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        finish_header(self.header, &self.seen)
    }

    fn step(&mut self) -> Result<bool, ParseError> {
        let event = match self.src.next_event() {
            Ok(e) => e,
            Err(e) => return self.syntax_error(e),
        };
        if self.capture.is_some() {
            self.capture_event(event);
            return Ok(true);
        }
        match event {
            Event::Start(e) => {
                self.start(&e)?;
            }
            Event::Empty(e) => {
                if !self.start(&e)? {
                    return Ok(true);
                }
                if self.capture.is_some() {
                    self.finish_capture(&e);
                } else {
                    self.close_top();
                }
            }
            Event::End(e) => self.end(e.local_name().as_ref()),
            Event::Text(t) => self.push_text(t.into_inner()),
            Event::CData(c) => self.push_text(c.into_inner()),
            Event::GeneralRef(r) => self.push_ref(&r),
            Event::Eof => {
                self.at_eof();
                return Ok(false);
            }
            _ => {}
        }
        Ok(true)
    }

    fn syntax_error(&mut self, e: quick_xml::Error) -> Result<bool, ParseError> {
        let position = self.src.position();
        if self.seen.records > 0 {
            // Keep what came before; say what was lost.
            self.header.warnings.push(format!(
                "XML error at byte {position} ({e}); the rest of the report was not read"
            ));
            self.close_all("the XML error");
            return Ok(false);
        }
        Err(ParseError::MalformedXml {
            position,
            detail: e.to_string(),
        })
    }

    /// Opens an element; false when it was taken as text instead.
    fn start(&mut self, e: &BytesStart<'_>) -> Result<bool, ParseError> {
        let local = e.local_name();
        let tag = Tag::from_local_name(local.as_ref());
        let parent = self.stack.last().map_or(Tag::Document, |f| f.tag);
        let grandparent = self
            .stack
            .len()
            .checked_sub(2)
            .map_or(Tag::Document, |i| self.stack[i].tag);
        if tag == Tag::Unknown && parent.is_leaf(grandparent) {
            self.raw_angle_in_value(e);
            return Ok(false);
        }
        self.text = None;
        if !self.seen.root {
            if tag != Tag::Feedback {
                // Not the report (yet): look inside, remember what it was.
                self.seen
                    .outer
                    .get_or_insert_with(|| local.as_ref().to_owned());
                self.stack.push(Frame {
                    tag: Tag::Unknown,
                    name: Some(local.as_ref().into()),
                    wrapper: true,
                });
                return Ok(true);
            }
            self.seen.root = true;
            if let Some(outer) = &self.seen.outer {
                self.header
                    .warnings
                    .push(format!("<feedback> found inside <{outer}>"));
            }
            self.read_namespace(e);
        } else if tag == Tag::Feedback && !self.stack.iter().any(|f| f.tag == Tag::Feedback) {
            return Err(ParseError::InvalidReport(
                "a second <feedback> in one document".into(),
            ));
        }
        match (tag, parent) {
            (Tag::Record, _) => {
                if self.record.is_some() {
                    self.header
                        .warnings
                        .push("<record> opened inside a <record>: closed the first");
                    self.end("record");
                }
                self.record = Some(Record::default());
            }
            (Tag::Dkim | Tag::Spf, Tag::AuthResults) => self.auth = Some(AuthBuilder::default()),
            (Tag::Reason, Tag::PolicyEvaluated) => {
                self.reason = Some(PolicyOverride {
                    kind: None,
                    comment: None,
                })
            }
            (Tag::DateRange, _) => self.seen.date_range = true,
            (Tag::Extension, _) => {
                self.capture = Some(Capture {
                    depth: 1,
                    in_record: self.record.is_some(),
                    ext: Extension {
                        name: attribute(e, "name"),
                        definition: attribute(e, "definition"),
                        xml: Cow::Borrowed(""),
                    },
                    xml: format!("<{}>", &**e),
                });
                return Ok(true);
            }
            _ => {}
        }
        let name = (tag == Tag::Unknown).then(|| local.as_ref().into());
        self.stack.push(Frame {
            tag,
            name,
            wrapper: false,
        });
        Ok(true)
    }

    /// `<email><a@b></email>` or `<header_from>a<b</header_from>`: a raw `<`
    /// inside a value, which the XML reader took for a tag. Kept as text.
    fn raw_angle_in_value(&mut self, e: &BytesStart<'_>) {
        self.header
            .warnings
            .push("unescaped '<' inside a value kept as text");
        let raw: &str = e;
        match raw.find("</") {
            Some(at) => {
                self.push_text(Cow::Owned(format!("<{}", &raw[..at])));
                self.close_top();
            }
            None => self.push_text(Cow::Owned(format!("<{raw}>"))),
        }
    }

    fn read_namespace(&mut self, e: &BytesStart<'_>) {
        if let Some(ns) = attribute(e, "xmlns") {
            self.header.namespace = Some(ns);
        }
    }

    fn push_text(&mut self, t: Cow<'x, str>) {
        match &mut self.text {
            None => self.text = Some(t),
            Some(existing) => existing.to_mut().push_str(&t),
        }
    }

    fn push_ref(&mut self, r: &BytesRef<'_>) {
        let resolved = match r.resolve_char_ref() {
            Ok(Some(c)) => Some(c),
            _ => match r.as_ref() {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => None,
            },
        };
        let text = self.text.get_or_insert(Cow::Borrowed("")).to_mut();
        match resolved {
            Some(c) => text.push(c),
            None => {
                text.push('&');
                text.push_str(r.as_ref());
                text.push(';');
                self.header
                    .warnings
                    .push("unknown entity reference kept verbatim");
            }
        }
    }

    fn end(&mut self, local: &str) {
        let tag = Tag::from_local_name(local);
        let matches =
            |f: &Frame| f.tag == tag && (tag != Tag::Unknown || f.name.as_deref() == Some(local));
        match self.stack.iter().rposition(matches) {
            Some(at) => {
                while self.stack.len() > at + 1 {
                    self.warn_unclosed("a later closing tag");
                    self.close_top();
                }
                self.close_top();
            }
            None => {
                let name = local;
                self.header
                    .warnings
                    .push(format!("stray closing tag </{name}> ignored"));
            }
        }
    }

    fn warn_unclosed(&mut self, by: &str) {
        if let Some(f) = self.stack.last() {
            let name = f
                .name
                .as_deref()
                .map_or_else(|| format!("{:?}", f.tag), str::to_owned);
            self.header
                .warnings
                .push(format!("unclosed element {name} closed by {by}"));
        }
    }

    fn close_all(&mut self, by: &str) {
        while !self.stack.is_empty() {
            self.warn_unclosed(by);
            self.close_top();
        }
    }

    fn at_eof(&mut self) {
        if self.stack.iter().any(|f| !f.wrapper) {
            self.header
                .warnings
                .push("document truncated: ends inside an element");
            self.close_all("the end of the document");
        }
        self.stack.clear();
        if !self.seen.root && self.error.is_none() {
            let detail = match &self.seen.outer {
                Some(outer) => format!("XML root element is <{outer}>, not <feedback>"),
                None => "no XML element found".into(),
            };
            self.error = Some(ParseError::NotDmarc(detail));
        }
    }

    /// Closes the innermost open element, storing its text where it belongs.
    fn close_top(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if frame.wrapper {
            return;
        }
        let parent = self.stack.last().map_or(Tag::Document, |f| f.tag);
        let value = trim_noting(
            self.text.take().unwrap_or(Cow::Borrowed("")),
            &mut self.header.warnings,
        );
        if frame.tag == Tag::Unknown {
            let name = frame.name.as_deref().unwrap_or("?");
            self.header
                .warnings
                .push(format!("unknown element <{name}> ignored"));
            return;
        }
        if !self.store(frame.tag, parent, value) {
            self.header.warnings.push(format!(
                "element {:?} ignored inside {:?}",
                frame.tag, parent
            ));
        }
    }

    /// Stores a closed element's value; false if it has no place there.
    fn store(&mut self, tag: Tag, parent: Tag, value: Cow<'x, str>) -> bool {
        let w = &mut self.header.warnings;
        let meta = &mut self.header.metadata;
        let policy = &mut self.header.policy_published;
        match (parent, tag) {
            (Tag::Feedback | Tag::ReportMetadata, Tag::Version) => {
                self.header.version = text(value)
            }
            (Tag::ReportMetadata, Tag::OrgName) => meta.org_name = value,
            (Tag::ReportMetadata, Tag::Email) => meta.email = value,
            (Tag::ReportMetadata, Tag::ExtraContactInfo) => meta.extra_contact_info = text(value),
            (Tag::ReportMetadata, Tag::ReportId) => meta.report_id = value,
            (Tag::ReportMetadata, Tag::Error) => meta.errors.extend(text(value)),
            (Tag::ReportMetadata, Tag::Generator) => meta.generator = text(value),
            (Tag::DateRange, Tag::Begin) => meta.begin = timestamp(&value, "begin", w).unwrap_or(0),
            (Tag::DateRange, Tag::End) => meta.end = timestamp(&value, "end", w).unwrap_or(0),
            (Tag::PolicyPublished, Tag::Domain) => policy.domain = value,
            (Tag::PolicyPublished, Tag::VersionPublished) => policy.version_published = text(value),
            (Tag::PolicyPublished, Tag::Adkim) => policy.adkim = enum_value(value, "adkim", w),
            (Tag::PolicyPublished, Tag::Aspf) => policy.aspf = enum_value(value, "aspf", w),
            (Tag::PolicyPublished, Tag::P) => policy.p = enum_value(value, "p", w),
            (Tag::PolicyPublished, Tag::Sp) => policy.sp = enum_value(value, "sp", w),
            (Tag::PolicyPublished, Tag::Np) => policy.np = enum_value(value, "np", w),
            (Tag::PolicyPublished, Tag::Pct) => {
                policy.pct = unsigned(&value, "pct", w).and_then(|n| u32::try_from(n).ok())
            }
            (Tag::PolicyPublished, Tag::Fo) => policy.fo = text(value),
            (Tag::PolicyPublished, Tag::Testing) => {
                policy.testing = enum_value(value, "testing", w)
            }
            (Tag::PolicyPublished, Tag::DiscoveryMethod) => {
                policy.discovery_method = enum_value(value, "discovery_method", w)
            }
            (_, Tag::Record) => self.close_record(),
            (_, container) if is_container(container) => {}
            _ => return self.store_in_record(tag, parent, value),
        }
        true
    }

    fn store_in_record(&mut self, tag: Tag, parent: Tag, value: Cow<'x, str>) -> bool {
        let w = &mut self.header.warnings;
        let Some(rec) = self.record.as_mut() else {
            return false;
        };
        match (parent, tag) {
            (Tag::Row, Tag::SourceIp) => rec.source_ip = source_ip(value, w),
            (Tag::Row, Tag::Count) => rec.count = unsigned(&value, "count", w).unwrap_or(0),
            (Tag::PolicyEvaluated, Tag::Disposition) => {
                rec.disposition = enum_value(value, "disposition", w)
            }
            (Tag::PolicyEvaluated, Tag::Dkim) => rec.dkim = enum_value(value, "dkim", w),
            (Tag::PolicyEvaluated, Tag::Spf) => rec.spf = enum_value(value, "spf", w),
            (Tag::PolicyEvaluated, Tag::Reason) => rec.reasons.extend(self.reason.take()),
            (Tag::Reason, Tag::Type) => {
                if let Some(r) = self.reason.as_mut() {
                    r.kind = enum_value(value, "type", w);
                }
            }
            (Tag::Reason, Tag::Comment) => {
                if let Some(r) = self.reason.as_mut() {
                    r.comment = text(value);
                }
            }
            (Tag::Identifiers, Tag::HeaderFrom) => rec.header_from = value,
            (Tag::Identifiers, Tag::EnvelopeFrom) => rec.envelope_from = text(value),
            (Tag::Identifiers, Tag::EnvelopeTo) => rec.envelope_to = text(value),
            (
                Tag::Dkim | Tag::Spf,
                Tag::Domain | Tag::Selector | Tag::Scope | Tag::Result | Tag::HumanResult,
            ) => {
                let Some(a) = self.auth.as_mut() else {
                    return false;
                };
                let slot = match tag {
                    Tag::Domain => &mut a.domain,
                    Tag::Selector => &mut a.selector,
                    Tag::Scope => &mut a.scope,
                    Tag::Result => &mut a.result,
                    _ => &mut a.human_result,
                };
                *slot = text(value);
            }
            (Tag::AuthResults, Tag::Dkim) => {
                let a = self.auth.take().unwrap_or_default();
                let result = a.result.and_then(|r| enum_value(r, "dkim/result", w));
                if result.is_none() {
                    w.push("DKIM result without <result>, taken as none");
                }
                rec.dkim_results.push(DkimAuth {
                    domain: a.domain.unwrap_or_default(),
                    selector: a.selector,
                    result: result.unwrap_or(DkimResult::None),
                    human_result: a.human_result,
                });
            }
            (Tag::AuthResults, Tag::Spf) => {
                let a = self.auth.take().unwrap_or_default();
                let result = a.result.and_then(|r| enum_value(r, "spf/result", w));
                if result.is_none() {
                    w.push("SPF result without <result>, taken as none");
                }
                rec.spf_results.push(SpfAuth {
                    domain: a.domain.unwrap_or_default(),
                    scope: a.scope.and_then(|s| enum_value(s, "scope", w)),
                    result: result.unwrap_or(SpfResult::None),
                    human_result: a.human_result,
                });
            }
            _ => return false,
        }
        true
    }

    fn close_record(&mut self) {
        let Some(rec) = self.record.take() else {
            return;
        };
        if rec.header_from.is_empty() {
            self.header.warnings.push("record without <header_from>");
        }
        if rec.source_ip.is_empty() {
            self.header.warnings.push("record without <source_ip>");
        }
        self.seen.records += 1;
        self.ready.push_back(rec);
    }

    fn capture_event(&mut self, event: Event<'x>) {
        let Some(cap) = self.capture.as_mut() else {
            return;
        };
        match &event {
            Event::Start(e) => {
                cap.depth += 1;
                cap.xml.push('<');
                cap.xml.push_str(e);
                cap.xml.push('>');
            }
            Event::Empty(e) => {
                cap.xml.push('<');
                cap.xml.push_str(e);
                cap.xml.push_str("/>");
            }
            Event::End(e) => {
                cap.depth -= 1;
                cap.xml.push_str("</");
                cap.xml.push_str(e.name().as_ref());
                cap.xml.push('>');
            }
            Event::Text(t) => cap.xml.push_str(t),
            Event::CData(c) => {
                cap.xml.push_str("<![CDATA[");
                cap.xml.push_str(c);
                cap.xml.push_str("]]>");
            }
            Event::GeneralRef(r) => {
                cap.xml.push('&');
                cap.xml.push_str(r);
                cap.xml.push(';');
            }
            Event::Eof => {
                self.header
                    .warnings
                    .push("document truncated inside <extension>");
                cap.depth = 0;
            }
            _ => {}
        }
        if cap.depth == 0 {
            self.store_capture();
            if matches!(event, Event::Eof) {
                self.at_eof();
                self.done = true;
            }
        }
    }

    fn finish_capture(&mut self, e: &BytesStart<'_>) {
        if let Some(cap) = self.capture.as_mut() {
            cap.xml = format!("<{}/>", &**e);
        }
        self.store_capture();
    }

    fn store_capture(&mut self) {
        let Some(cap) = self.capture.take() else {
            return;
        };
        let ext = Extension {
            xml: Cow::Owned(cap.xml),
            ..cap.ext
        };
        match (cap.in_record, self.record.as_mut()) {
            (true, Some(rec)) => rec.extensions.push(ext),
            _ => self.header.extensions.push(ext),
        }
    }
}

impl<'x, S: EventSource<'x>> Iterator for AggregateParser<'x, S> {
    type Item = Record<'x>;

    fn next(&mut self) -> Option<Record<'x>> {
        loop {
            if let Some(rec) = self.ready.pop_front() {
                return Some(rec);
            }
            if self.done {
                return None;
            }
            match self.step() {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                }
            }
        }
    }
}

fn is_container(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::Feedback
            | Tag::ReportMetadata
            | Tag::PolicyPublished
            | Tag::DateRange
            | Tag::Row
            | Tag::PolicyEvaluated
            | Tag::Identifiers
            | Tag::AuthResults
            | Tag::Extensions
    )
}

/// Trims a leaf value; white space inside a value is a sender quirk worth noting.
fn trim_noting<'x>(
    value: Cow<'x, str>,
    warnings: &mut dmarcflow_schemas::Warnings,
) -> Cow<'x, str> {
    let before = value.len();
    let trimmed = trim(value);
    if !trimmed.is_empty() && trimmed.len() != before {
        warnings.push("white space around element values trimmed");
    }
    trimmed
}

fn attribute<'x>(e: &BytesStart<'_>, key: &str) -> Option<Cow<'x, str>> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| Cow::Owned(a.value.into_owned()))
}
