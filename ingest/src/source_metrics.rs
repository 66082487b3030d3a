//! What a source counts besides what it publishes (that is
//! `dmarcflow_bus::Metered`): bytes and messages received, and failures of
//! its own, exported by the binary as `dmarcflow_source_*`.

/// Bytes a source received (whole messages, request bodies).
pub fn received(source: &'static str, bytes: usize) {
    metrics::counter!("dmarcflow_source_bytes_total", "source" => source).increment(bytes as u64);
    metrics::counter!("dmarcflow_source_messages_total", "source" => source).increment(1);
}

/// A source-side failure other than the bus (a lost IMAP connection, a
/// refused login, a TLS handshake), by class.
pub fn source_error(source: &'static str, class: &'static str) {
    metrics::counter!("dmarcflow_source_errors_total", "source" => source, "error" => class)
        .increment(1);
}
