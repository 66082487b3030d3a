//! The Prometheus endpoint of the services (`ingest` without paths, `sink`,
//! `run` without paths): `[metrics] listen` or `DMARCFLOW_METRICS_LISTEN`,
//! any path answers with every `dmarcflow_*` metric in the text format.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

/// Batch write latencies, seconds: 5 ms to 2 minutes.
const BATCH_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Starts the endpoint on the current tokio runtime (nothing when unset).
pub fn install(listen: Option<&str>) -> Result<()> {
    let Some(listen) = listen else {
        return Ok(());
    };
    let address: SocketAddr = listen
        .parse()
        .with_context(|| format!("metrics listen address {listen:?}"))?;
    PrometheusBuilder::new()
        .with_http_listener(address)
        .set_buckets_for_metric(
            Matcher::Full("dmarcflow_store_batch_seconds".to_owned()),
            BATCH_BUCKETS,
        )?
        .install()
        .with_context(|| format!("serving metrics on {address}"))?;
    describe();
    eprintln!("metrics on http://{address}/metrics");
    Ok(())
}

fn describe() {
    describe_counter!(
        "dmarcflow_source_messages_total",
        "Messages (emails, request bodies) a source received"
    );
    describe_counter!(
        "dmarcflow_source_bytes_total",
        Unit::Bytes,
        "Bytes a source received"
    );
    describe_counter!(
        "dmarcflow_source_errors_total",
        "Source failures other than the bus (IMAP connection, login, TLS...), by class"
    );
    describe_counter!(
        "dmarcflow_reports_published_total",
        "Reports acknowledged by the bus, by source and kind"
    );
    describe_counter!(
        "dmarcflow_records_published_total",
        "Aggregate records, TLS-RPT policies and failure reports acknowledged by the bus"
    );
    describe_counter!(
        "dmarcflow_dead_letters_total",
        "Inputs sent to the dead-letter path, by source and reason"
    );
    describe_counter!(
        "dmarcflow_bus_errors_total",
        "Publishes the bus refused or did not acknowledge in time (the sender retries)"
    );
    describe_counter!(
        "dmarcflow_sink_messages_total",
        "Messages the sink consumed from Kafka"
    );
    describe_counter!(
        "dmarcflow_sink_dead_letters_total",
        "Consumed messages that were not reports, sent to the dead-letter topic"
    );
    describe_gauge!(
        "dmarcflow_sink_lag_messages",
        "Messages between the committed offset and the end of each assigned partition"
    );
    describe_histogram!(
        "dmarcflow_store_batch_seconds",
        Unit::Seconds,
        "Time to write one batch to the store"
    );
    describe_counter!(
        "dmarcflow_store_reports_total",
        "Reports written (stored) or found already stored (duplicate)"
    );
    describe_counter!("dmarcflow_store_rows_total", "Rows inserted, all tables");
    describe_counter!(
        "dmarcflow_store_errors_total",
        "Batch writes that failed for good"
    );
}
