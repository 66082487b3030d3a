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

use super::fields::{self, enum_value, source_ip, text, timestamp, trim, unsigned};
use super::finish::finish_header;
use super::scanner::{attribute, unescape, EventSource, ScanError, Token};
use super::seen::Seen;
use super::tag::Tag;
use crate::ParseError;

/// Deepest element nesting read; real reports nest five levels.
pub const MAX_DEPTH: usize = 64;
/// Longest text value, and longest `<extension>` copied verbatim.
pub const MAX_VALUE: usize = 1 << 20;
/// Most `<error>` texts and top-level `<extension>`s kept in a header: a
/// streamed header stays in memory while its records pass.
pub const MAX_HEADER_ITEMS: usize = 1000;

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
    /// The slot the iterator has `next_into` fill (kept: one allocation).
    slot: Vec<Record<'x>>,
    pub(crate) seen: Seen,
    error: Option<ParseError>,
    done: bool,
    /// Whether plain records may take the fast path (`fast.rs`).
    fast: bool,
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
            slot: Vec::with_capacity(1),
            seen: Seen::default(),
            error: None,
            done: false,
            fast: true,
        }
    }

    /// Reads every record with the general state machine: for checking the
    /// fast path against it.
    #[doc(hidden)]
    pub fn general_path_only(mut self) -> Self {
        self.fast = false;
        self
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
        match self.src.next_token() {
            Ok(token) => self.process(token),
            Err(e) => self.syntax_error(e),
        }
    }

    /// Handles one token; false at the end of the document.
    fn process(&mut self, token: Token<'x>) -> Result<bool, ParseError> {
        if self.capture.is_some() {
            self.capture_token(token);
            return Ok(true);
        }
        match token {
            Token::Start {
                raw,
                name_len,
                empty,
            } => {
                let pushed = self.start(&raw, name_len)?;
                if empty && pushed {
                    if self.capture.is_some() {
                        self.finish_capture(&raw);
                    } else {
                        self.close_top();
                    }
                }
            }
            Token::Leaf {
                raw,
                name_len,
                value,
                escaped,
            } => {
                if let Some(value) = self.leaf(&raw, name_len, value, escaped) {
                    // Not a plain value here: exactly the tokens a streamed
                    // document gives for the same bytes.
                    let name = Cow::Owned(raw[..name_len].to_owned());
                    self.process(Token::Start {
                        raw,
                        name_len,
                        empty: false,
                    })?;
                    if !value.is_empty() {
                        self.process(Token::Text(value))?;
                    }
                    self.process(Token::End { name })?;
                }
            }
            Token::End { name } => self.end(local_name(&name)),
            Token::Text(t) => self.push_text(t)?,
            // Escaped so that resolving references at the close restores it.
            Token::CData(c) => self.push_text(Cow::Owned(c.replace('&', "&amp;")))?,
            Token::Eof => {
                self.at_eof();
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The innermost open element and its parent.
    fn context(&self) -> (Tag, Tag) {
        let mut open = self.stack.iter().rev().map(|f| f.tag);
        let parent = open.next().unwrap_or(Tag::Document);
        (parent, open.next().unwrap_or(Tag::Document))
    }

    /// Whether a plain record straight from the source (see `fast.rs`) may
    /// come next.
    fn fast_possible(&self) -> bool {
        let at_top = self.stack.last().is_some_and(|f| f.tag == Tag::Feedback);
        self.fast && at_top && self.capture.is_none() && self.record.is_none()
    }

    /// Fills `rec` (a default record), and says whether it did.
    fn fast_record(&mut self, rec: &mut Record<'x>) -> bool {
        if !self.src.fast_record(rec) {
            return false;
        }
        self.text = None;
        self.seen.records += 1;
        true
    }

    /// Appends the next record to `out`; `false` once there are no more.
    /// What the iterator does, without moving each record out and back in.
    pub(crate) fn next_into(&mut self, out: &mut Vec<Record<'x>>) -> bool {
        loop {
            if let Some(rec) = self.ready.pop_front() {
                out.push(rec);
                return true;
            }
            if self.done {
                return false;
            }
            if self.fast_possible() {
                // Filled where it will stay (see `fast::record`).
                out.push(Record::default());
                if out.last_mut().is_some_and(|r| self.fast_record(r)) {
                    return true;
                }
                out.pop();
            }
            self.advance();
        }
    }

    /// One step of the general state machine; an error ends the report.
    fn advance(&mut self) {
        match self.step() {
            Ok(true) => {}
            Ok(false) => self.done = true,
            Err(e) => {
                self.error = Some(e);
                self.done = true;
            }
        }
    }

    fn syntax_error(&mut self, e: ScanError) -> Result<bool, ParseError> {
        if self.seen.records > 0 {
            // Keep what came before; say what was lost.
            self.header.warnings.push(format!(
                "XML error at byte {} ({e}); the rest of the report was not read",
                e.position
            ));
            self.close_all("the XML error");
            return Ok(false);
        }
        Err(ParseError::MalformedXml {
            position: e.position,
            detail: e.to_string(),
        })
    }

    /// `<name>value</name>`: stored at once when it is a value in a known
    /// place; else the value is handed back, to be taken apart.
    fn leaf(
        &mut self,
        raw: &str,
        name_len: usize,
        value: Cow<'x, str>,
        escaped: bool,
    ) -> Option<Cow<'x, str>> {
        let tag = Tag::from_local_name(local_name(&raw[..name_len]));
        let (parent, grandparent) = self.context();
        if !self.seen.root
            || value.len() > MAX_VALUE
            || tag == Tag::Unknown
            || !tag.is_leaf(parent)
            || parent.is_leaf(grandparent)
        {
            return Some(value);
        }
        self.text = None;
        let value = leaf_value(value, escaped, &mut self.header.warnings);
        if !self.store(tag, parent, value) {
            self.header
                .warnings
                .push(format!("element {tag:?} ignored inside {parent:?}"));
        }
        None
    }

    /// Opens an element; false when it was taken as text instead.
    fn start(&mut self, raw: &str, name_len: usize) -> Result<bool, ParseError> {
        let local = local_name(&raw[..name_len]);
        let tag = Tag::from_local_name(local);
        let (parent, grandparent) = self.context();
        if tag == Tag::Unknown && parent.is_leaf(grandparent) {
            self.raw_angle_in_value(raw)?;
            return Ok(false);
        }
        self.text = None;
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::LimitExceeded(format!(
                "XML elements nested deeper than {MAX_DEPTH} (at <{local}>)"
            )));
        }
        if !self.seen.root {
            if tag != Tag::Feedback {
                // Not the report (yet): look inside, remember what it was.
                self.seen.outer.get_or_insert_with(|| local.to_owned());
                self.stack.push(Frame {
                    tag: Tag::Unknown,
                    name: Some(local.into()),
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
            if let Some(ns) = attribute(raw, name_len, "xmlns") {
                self.header.namespace = Some(Cow::Owned(ns));
            }
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
                        name: attribute(raw, name_len, "name").map(Cow::Owned),
                        definition: attribute(raw, name_len, "definition").map(Cow::Owned),
                        xml: Cow::Borrowed(""),
                    },
                    xml: format!("<{raw}>"),
                });
                return Ok(true);
            }
            _ => {}
        }
        let name = (tag == Tag::Unknown).then(|| local.into());
        self.stack.push(Frame {
            tag,
            name,
            wrapper: false,
        });
        Ok(true)
    }

    /// `<email><a@b></email>` or `<header_from>a<b</header_from>`: a raw `<`
    /// inside a value, which looked like a tag. Kept as text.
    fn raw_angle_in_value(&mut self, raw: &str) -> Result<(), ParseError> {
        self.header
            .warnings
            .push("unescaped '<' inside a value kept as text");
        match raw.find("</") {
            Some(at) => {
                self.push_text(Cow::Owned(format!("<{}", &raw[..at])))?;
                self.close_top();
            }
            None => self.push_text(Cow::Owned(format!("<{raw}>")))?,
        }
        Ok(())
    }

    fn push_text(&mut self, t: Cow<'x, str>) -> Result<(), ParseError> {
        let held = self.text.as_ref().map_or(0, |t| t.len());
        if held + t.len() > MAX_VALUE {
            let (parent, _) = self.context();
            return Err(ParseError::LimitExceeded(format!(
                "a text value longer than {MAX_VALUE} bytes (in {parent:?})"
            )));
        }
        match &mut self.text {
            None => self.text = Some(t),
            Some(existing) => existing.to_mut().push_str(&t),
        }
        Ok(())
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
        if frame.tag == Tag::Unknown {
            self.text = None;
            let name = frame.name.as_deref().unwrap_or("?");
            self.header
                .warnings
                .push(format!("unknown element <{name}> ignored"));
            return;
        }
        if !frame.tag.is_leaf(parent) {
            // A container: the text between its children is no value.
            self.text = None;
            self.store(frame.tag, parent, Cow::Borrowed(""));
            return;
        }
        let value = trim_noting(
            self.text.take().unwrap_or(Cow::Borrowed("")),
            &mut self.header.warnings,
        );
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
            (Tag::ReportMetadata, Tag::Error) if meta.errors.len() >= MAX_HEADER_ITEMS => w.push(
                format!("more than {MAX_HEADER_ITEMS} <error>s: the rest dropped"),
            ),
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

    fn capture_token(&mut self, token: Token<'x>) {
        let Some(cap) = self.capture.as_mut() else {
            return;
        };
        let eof = token == Token::Eof;
        match &token {
            Token::Leaf {
                raw,
                name_len,
                value,
                ..
            } => {
                cap.xml.push('<');
                cap.xml.push_str(raw);
                cap.xml.push('>');
                cap.xml.push_str(value);
                cap.xml.push_str("</");
                cap.xml.push_str(&raw[..*name_len]);
                cap.xml.push('>');
            }
            Token::Start { raw, empty, .. } => {
                cap.xml.push('<');
                cap.xml.push_str(raw);
                if *empty {
                    cap.xml.push('/');
                } else {
                    cap.depth += 1;
                }
                cap.xml.push('>');
            }
            Token::End { name } => {
                cap.depth -= 1;
                cap.xml.push_str("</");
                cap.xml.push_str(name);
                cap.xml.push('>');
            }
            Token::Text(t) => cap.xml.push_str(t),
            Token::CData(c) => {
                cap.xml.push_str("<![CDATA[");
                cap.xml.push_str(c);
                cap.xml.push_str("]]>");
            }
            Token::Eof => {
                self.header
                    .warnings
                    .push("document truncated inside <extension>");
                cap.depth = 0;
            }
        }
        if cap.depth == 0 {
            self.store_capture();
            if eof {
                self.at_eof();
                self.done = true;
            }
        }
    }

    fn finish_capture(&mut self, raw: &str) {
        if let Some(cap) = self.capture.as_mut() {
            cap.xml = format!("<{raw}/>");
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
            _ if self.header.extensions.len() >= MAX_HEADER_ITEMS => self.header.warnings.push(
                format!("more than {MAX_HEADER_ITEMS} <extension>s: the rest dropped"),
            ),
            _ => self.header.extensions.push(ext),
        }
    }
}

impl<'x, S: EventSource<'x>> Iterator for AggregateParser<'x, S> {
    type Item = Record<'x>;

    fn next(&mut self) -> Option<Record<'x>> {
        let mut slot = std::mem::take(&mut self.slot);
        self.next_into(&mut slot);
        let record = slot.pop();
        self.slot = slot;
        record
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

/// A value from a [`Token::Leaf`]: trimmed and unescaped only when needed.
fn leaf_value<'x>(
    value: Cow<'x, str>,
    escaped: bool,
    warnings: &mut dmarcflow_schemas::Warnings,
) -> Cow<'x, str> {
    if !fields::is_padded(&value) && !escaped {
        return value;
    }
    trim_noting(value, warnings)
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
    let (value, known) = unescape(trimmed);
    if !known {
        warnings.push("unknown entity reference kept verbatim");
    }
    value
}

/// `prefix:name` to `name`.
fn local_name(name: &str) -> &str {
    match name.bytes().rposition(|b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    }
}
