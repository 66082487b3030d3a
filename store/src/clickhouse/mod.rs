//! The ClickHouse store, split by concern: `config` (connection, batching,
//! retry policy), `encoder` (reports to RowBinary rows), `dedup` (what is
//! already stored), `sink` (batch writes with retries), `migrate` (DDL),
//! `query` (SQL to a table).

pub mod cluster;
pub mod config;
mod dedup;
pub mod encoder;
mod migrate;
mod query;
pub mod retention;
mod sink;

use clickhouse::{Client, Compression};

pub use config::{ClickHouseConfig, RetryPolicy};
pub use migrate::{migrate, MigrationReport, LEDGER, LEDGER_READ, LEDGER_WRITE};
pub use query::query;
pub use sink::{lookup_queries, ClickHouseSink, INSERT_SETTINGS};

use crate::StoreError;

/// A server's `version()`, major and minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServerVersion(pub (u32, u32));

impl ServerVersion {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Self((major, minor)))
    }

    /// `insert_deduplication_token` (with `non_replicated_deduplication_window`).
    pub fn supports_insert_dedup_token(self) -> bool {
        self.0 >= (22, 2)
    }

    /// Answers what row validation asks (`DESCRIBE TABLE` and
    /// `RowBinaryWithNamesAndTypes` for the current schema's types).
    pub fn supports_row_validation(self) -> bool {
        self.0 >= (22, 2)
    }
}

/// A client for the server (no database selected) and the server's version.
/// Rows are validated against the tables' types where the server answers
/// the metadata queries validation needs (not 18.16: there the encoder
/// test checks rows against the DDL instead).
pub async fn connect(config: &ClickHouseConfig) -> Result<(Client, ServerVersion), StoreError> {
    let mut client = Client::default()
        .with_url(&config.url)
        .with_compression(Compression::Lz4)
        .with_validation(false);
    if let Some(user) = &config.user {
        client = client.with_user(user);
    }
    if let Some(password) = &config.password {
        client = client.with_password(password.expose());
    }
    let text: String = client.query("SELECT version()").fetch_one().await?;
    let version = ServerVersion::parse(&text)
        .ok_or_else(|| StoreError::Config(format!("unreadable server version {text:?}")))?;
    let client = client.with_validation(version.supports_row_validation());
    Ok((client, version))
}
