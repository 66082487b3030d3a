//! What a network source (SMTP/LMTP, HTTPS, IMAP) shares with every
//! connection it serves: its settings, the parser that turns a message into
//! reports, the publisher that must acknowledge them, and the memory budget
//! all sources draw on; and how one received message is delivered.

use std::time::Duration;

use bytes::Bytes;

use crate::budget::MemoryBudget;
use crate::files::{FilesSource, Found, Rejected};
use dmarcflow_bus::BusError;
use dmarcflow_bus::Publish;

/// Records per part of a large report received over the network: a part
/// is in memory while it waits for the bus (about 1 KB a record).
const PART_RECORDS: usize = 10_000;

pub struct Shared<C, P> {
    pub config: C,
    pub source: FilesSource,
    pub publisher: P,
    pub budget: MemoryBudget,
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
        }
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
    ) -> Result<Delivered, Undelivered> {
        let source = self.source_for(data.len() as u64);
        let mut found = source.read_message_channel(data.clone(), origin, received_at);
        let mut delivered = Delivered::default();
        while let Some(item) = found.recv().await {
            let sending = async {
                match item {
                    Found::Report(r) => {
                        let id = r.report.id().to_owned();
                        self.publisher.publish_owned(r).await?;
                        delivered.reports.push(id);
                    }
                    Found::Rejected(r) => {
                        self.publisher.dead_letter(&data, &r, received_at).await?;
                        delivered.rejected.push(r);
                    }
                }
                Ok(())
            };
            let sent = tokio::time::timeout(timeout, sending)
                .await
                .unwrap_or(Err(BusError::Timeout));
            if let Err(e) = sent {
                self.publisher.recover();
                return Err(Undelivered::Bus(e));
            }
        }
        if !found.finish().await {
            return Err(Undelivered::Parser);
        }
        Ok(delivered)
    }
}
