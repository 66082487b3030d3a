//! What a network source needs from the bus: publish a report, publish a
//! dead letter, each future resolving once the message is durable (for
//! Kafka: acknowledged by the broker).

use std::future::Future;

use dmarcflow_schemas::Ingested;

use dmarcflow_schemas::Rejected;

use crate::{BusError, KafkaPublisher};

pub trait Publish: Send + Sync + 'static {
    fn publish<'a>(
        &'a self,
        item: &'a Ingested<'_>,
    ) -> impl Future<Output = Result<(), BusError>> + Send + 'a;

    /// `publish` of a report the caller is done with: a bus that keeps
    /// reports (the in-process one) takes it instead of a copy.
    fn publish_owned(
        &self,
        item: Ingested<'static>,
    ) -> impl Future<Output = Result<(), BusError>> + Send + '_ {
        async move { self.publish(&item).await }
    }

    fn dead_letter<'a>(
        &'a self,
        raw: &'a [u8],
        rejected: &'a Rejected,
        received_at: i64,
    ) -> impl Future<Output = Result<(), BusError>> + Send + 'a;

    /// Called after a publish failed or timed out: start afresh (what was
    /// queued is dropped; its sender was told to retry).
    fn recover(&self) {}
}

impl Publish for KafkaPublisher {
    fn publish<'a>(
        &'a self,
        item: &'a Ingested<'_>,
    ) -> impl Future<Output = Result<(), BusError>> + Send + 'a {
        KafkaPublisher::publish(self, item)
    }

    fn dead_letter<'a>(
        &'a self,
        raw: &'a [u8],
        rejected: &'a Rejected,
        received_at: i64,
    ) -> impl Future<Output = Result<(), BusError>> + Send + 'a {
        KafkaPublisher::dead_letter(self, raw, rejected, received_at)
    }

    fn recover(&self) {
        self.renew();
    }
}

/// A publisher shared between tasks is a publisher.
impl<P: Publish> Publish for std::sync::Arc<P> {
    fn publish<'a>(
        &'a self,
        item: &'a Ingested<'_>,
    ) -> impl Future<Output = Result<(), BusError>> + Send + 'a {
        P::publish(self, item)
    }

    fn publish_owned(
        &self,
        item: Ingested<'static>,
    ) -> impl Future<Output = Result<(), BusError>> + Send + '_ {
        P::publish_owned(self, item)
    }

    fn dead_letter<'a>(
        &'a self,
        raw: &'a [u8],
        rejected: &'a Rejected,
        received_at: i64,
    ) -> impl Future<Output = Result<(), BusError>> + Send + 'a {
        P::dead_letter(self, raw, rejected, received_at)
    }

    fn recover(&self) {
        P::recover(self);
    }
}
