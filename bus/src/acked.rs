//! The in-process bus for network sources when no Kafka is configured:
//! each report travels with a one-shot acknowledgement that the store sends
//! once the batch holding it is written, so an SMTP 250, an HTTPS 200 or an
//! IMAP move still happens only after the report is durable. Dead letters
//! go to a JSON-lines file, appended and synced before they count as sent.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use dmarcflow_schemas::Ingested;
use tokio::sync::{mpsc, oneshot};

use dmarcflow_schemas::Rejected;

use crate::{BusError, Publish};

/// A report and the acknowledgement its publisher awaits.
pub type Delivery = (Ingested<'static>, oneshot::Sender<()>);

/// The store's side: see `dmarcflow_store::Store::consume_acked`.
pub type AckedSubscriber = mpsc::Receiver<Delivery>;

#[derive(Debug, Clone)]
pub struct AckedPublisher {
    tx: mpsc::Sender<Delivery>,
    dead_letters: Arc<DeadLetterFile>,
}

/// A bus holding at most `capacity` unwritten reports.
pub fn in_process_acked(
    capacity: usize,
    dead_letters: DeadLetterFile,
) -> (AckedPublisher, AckedSubscriber) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let publisher = AckedPublisher {
        tx,
        dead_letters: Arc::new(dead_letters),
    };
    (publisher, rx)
}

impl Publish for AckedPublisher {
    async fn publish(&self, item: &Ingested<'_>) -> Result<(), BusError> {
        self.publish_owned(item.clone().into_owned()).await
    }

    async fn publish_owned(&self, item: Ingested<'static>) -> Result<(), BusError> {
        let (ack, acked) = oneshot::channel();
        self.tx
            .send((item, ack))
            .await
            .map_err(|_| BusError::Closed)?;
        acked.await.map_err(|_| BusError::Closed)
    }

    async fn dead_letter(
        &self,
        raw: &[u8],
        rejected: &Rejected,
        received_at: i64,
    ) -> Result<(), BusError> {
        let line = DeadLetterFile::line(raw, rejected, received_at);
        let file = self.dead_letters.clone();
        tokio::task::spawn_blocking(move || file.append(&line))
            .await
            .map_err(|e| BusError::DeadLetterFile(e.to_string()))?
    }
}

/// Dead letters as JSON lines: `received_at`, `origin`, `reason`, `error`,
/// and the raw bytes in base64 (`raw_base64`), for replay after a fix.
#[derive(Debug)]
pub struct DeadLetterFile {
    file: Mutex<File>,
}

impl DeadLetterFile {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }

    fn line(raw: &[u8], rejected: &Rejected, received_at: i64) -> Vec<u8> {
        let value = serde_json::json!({
            "received_at": received_at,
            "origin": rejected.origin,
            "reason": rejected.reason,
            "error": rejected.error,
            "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw),
        });
        let mut line = value.to_string().into_bytes();
        line.push(b'\n');
        line
    }

    fn append(&self, line: &[u8]) -> Result<(), BusError> {
        let failed = |e: std::io::Error| BusError::DeadLetterFile(e.to_string());
        let mut file = self
            .file
            .lock()
            .map_err(|_| BusError::DeadLetterFile("a writer panicked".to_owned()))?;
        file.write_all(line).map_err(failed)?;
        file.sync_data().map_err(failed)
    }
}
