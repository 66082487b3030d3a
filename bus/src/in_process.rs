//! The in-process bus: a bounded channel of [`Ingested`] reports. `publish`
//! blocks while the channel is full (back-pressure); the subscriber side is
//! async, for the store's writer task.

use dmarcflow_schemas::Ingested;
use tokio::sync::mpsc;

/// The sending half, for source threads.
#[derive(Debug, Clone)]
pub struct Publisher {
    tx: mpsc::Sender<Ingested<'static>>,
}

/// The receiving half, for the store's writer.
pub type Subscriber = mpsc::Receiver<Ingested<'static>>;

/// The subscriber has gone: nothing published will be stored.
#[derive(Debug, thiserror::Error)]
#[error("the in-process bus is closed")]
pub struct Closed;

/// A bus holding at most `capacity` reports in flight.
pub fn in_process(capacity: usize) -> (Publisher, Subscriber) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (Publisher { tx }, rx)
}

impl Publisher {
    /// Hands a report to the bus, waiting for room. Call from a thread, not
    /// from inside the async runtime.
    pub fn publish(&self, report: Ingested<'static>) -> Result<(), Closed> {
        self.tx.blocking_send(report).map_err(|_| Closed)
    }

    /// The same, from inside the async runtime.
    pub async fn publish_async(&self, report: Ingested<'static>) -> Result<(), Closed> {
        self.tx.send(report).await.map_err(|_| Closed)
    }
}
