//! What a network source (SMTP/LMTP, HTTPS, IMAP) shares with every
//! connection it serves: its settings, the parser that turns a message into
//! reports, the enricher (`[enrich]`: who each source address is, whether
//! a report email is the reporter's own), the publisher that must
//! acknowledge them, and the memory budget all sources draw on; and how one
//! received message is delivered.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::budget::MemoryBudget;
use crate::files::{FilesSource, Found, Rejected};
use dmarcflow_bus::BusError;
use dmarcflow_bus::Publish;
use dmarcflow_enrich::{Enrichable, Enricher, Envelope, Signatures};
use dmarcflow_schemas::{Report, ReporterAuth};
use futures_util::{Stream, StreamExt};

/// Records per part of a large report received over the network: a part
/// is in memory while it waits for the bus (about 1 KB a record).
const PART_RECORDS: usize = 10_000;

pub struct Shared<C, P> {
    pub config: C,
    pub source: FilesSource,
    pub publisher: P,
    pub budget: MemoryBudget,
    pub enricher: Option<Arc<Enricher>>,
}

/// How a message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier<'e> {
    /// An email (LMTP, IMAP): its signatures can be verified.
    Email,
    /// An email straight from its sender's server over SMTP: SPF of its
    /// envelope can be checked too.
    Smtp(&'e Envelope),
    /// An HTTPS POST (TLS-RPT): there is no email to verify.
    Https,
}

impl<C, P> Shared<C, P> {
    pub fn new(config: C, publisher: P) -> Self {
        Self {
            config,
            source: FilesSource {
                part_records: PART_RECORDS,
                ..FilesSource::default()
            },
            publisher,
            budget: MemoryBudget::default(),
            enricher: None,
        }
    }

    /// The same, enriching every report before it is published.
    pub fn with_enricher(mut self, enricher: Option<Arc<Enricher>>) -> Self {
        self.enricher = enricher;
        self
    }

    /// The signatures of a message, when it is an email and verification
    /// is on: checked once, for every report it holds.
    pub async fn signatures(&self, data: &[u8], carrier: Carrier<'_>) -> Option<Signatures> {
        match (&self.enricher, carrier) {
            (Some(e), Carrier::Email) => e.signatures(data, None).await,
            (Some(e), Carrier::Smtp(envelope)) => e.signatures(data, Some(envelope)).await,
            _ => None,
        }
    }

    /// The verdict on the email (or the mark of HTTPS) a find came in: a
    /// report `[enrich] unauthenticated = "dead-letter"` refuses becomes a
    /// dead letter.
    fn judge(&self, found: Found, carrier: Carrier<'_>, signatures: Option<&Signatures>) -> Found {
        let Found::Report(mut item) = found else {
            return found;
        };
        if let Some(enricher) = &self.enricher {
            if let Err(error) = enricher.judge(&mut item, signatures) {
                return Found::Rejected(Rejected {
                    path: item.origin.clone(),
                    origin: item.origin,
                    reason: "unauthenticated",
                    error,
                });
            }
        }
        if carrier == Carrier::Https {
            item.reporter = Some(ReporterAuth::HTTPS);
        }
        Found::Report(item)
    }

    /// What ingest adds to the finds of one message before they are
    /// published, in order: the verdict on its email, then the reports'
    /// sources through the enrichment stage, one report at a time (see
    /// `dmarcflow_enrich::stage` for why one).
    pub fn prepared<'s>(
        &'s self,
        finds: impl Stream<Item = Found> + 's,
        carrier: Carrier<'s>,
        signatures: Option<&'s Signatures>,
    ) -> impl Stream<Item = Found> + 's {
        let judged = finds.map(move |f| self.judge(f, carrier, signatures));
        match &self.enricher {
            Some(enricher) => enricher.stage_within(judged, 1).left_stream(),
            None => judged.right_stream(),
        }
    }

    /// The same, protecting failure reports and their raw copies as
    /// `[privacy]` says.
    pub fn with_privacy(mut self, privacy: dmarcflow_privacy::Privacy) -> Self {
        self.source.privacy = privacy;
        self
    }

    /// The same, drawing on `budget` (shared with the other sources).
    pub fn with_budget(mut self, budget: MemoryBudget) -> Self {
        self.budget = budget;
        self
    }

    /// What parsing a message of `raw` bytes reserves before it starts.
    pub fn working_bytes(&self, raw: u64) -> u64 {
        self.budget
            .working(raw, self.source.parser.limits.max_in_memory)
    }

    /// The parser for a message of `raw` bytes: it may hold that message's
    /// decompression allowance in memory (a report needing more streams).
    pub fn source_for(&self, raw: u64) -> FilesSource {
        let mut source = self.source.clone();
        let limits = &mut source.parser.limits;
        limits.max_in_memory = self.budget.allowance(raw, limits.max_in_memory);
        source
    }
}

/// A find goes through the enrichment stage; a rejection passes as it is.
impl Enrichable for Found {
    fn report_mut(&mut self) -> Option<&mut Report<'static>> {
        match self {
            Found::Report(item) => Some(&mut item.report),
            Found::Rejected(_) => None,
        }
    }
}

/// What one message held, once all of it is on the bus.
#[derive(Debug, Default)]
pub struct Delivered {
    /// The ids of its reports.
    pub reports: Vec<String>,
    /// Why its other parts are not reports (each dead-lettered).
    pub rejected: Vec<Rejected>,
}

/// Why a message was not delivered: its sender keeps it and retries.
#[derive(Debug, thiserror::Error)]
pub enum Undelivered {
    #[error("the parser thread failed")]
    Parser,
    #[error("report bus unavailable: {0}")]
    Bus(#[from] BusError),
}

impl<C, P: Publish> Shared<C, P> {
    /// Parses one message on a blocking thread (within its decompression
    /// allowance) and publishes each report or dead letter as it is found,
    /// each within `timeout`; done once all are acknowledged. The parser
    /// waits while the bus does, so a message in parts never sits in memory
    /// whole. On a bus failure the publisher starts afresh.
    pub async fn deliver(
        &self,
        data: Bytes,
        origin: String,
        received_at: i64,
        timeout: Duration,
        carrier: Carrier<'_>,
    ) -> Result<Delivered, Undelivered> {
        let source = self.source_for(data.len() as u64);
        let signatures = self.signatures(&data, carrier).await;
        let mut found = source.read_message_channel(data.clone(), origin, received_at);
        let mut delivered = Delivered::default();
        {
            let finds = found.finds();
            let mut prepared = std::pin::pin!(self.prepared(finds, carrier, signatures.as_ref()));
            while let Some(item) = prepared.next().await {
                let sending = self.send(item, &data, received_at, &mut delivered);
                let sent = tokio::time::timeout(timeout, sending)
                    .await
                    .unwrap_or(Err(BusError::Timeout));
                if let Err(e) = sent {
                    self.publisher.recover();
                    return Err(Undelivered::Bus(e));
                }
            }
        }
        if !found.finish().await {
            return Err(Undelivered::Parser);
        }
        Ok(delivered)
    }

    /// Publishes one find (a report, or a dead letter with the message it
    /// came in) and notes it in `delivered` once acknowledged.
    async fn send(
        &self,
        item: Found,
        data: &[u8],
        received_at: i64,
        delivered: &mut Delivered,
    ) -> Result<(), BusError> {
        match item {
            Found::Report(r) => {
                let id = r.report.id().to_owned();
                self.publisher.publish_owned(r).await?;
                delivered.reports.push(id);
            }
            Found::Rejected(r) => {
                let copy = self.source.privacy.raw_copy(data);
                self.publisher.dead_letter(&copy, &r, received_at).await?;
                delivered.rejected.push(r);
            }
        }
        Ok(())
    }
}
