//! Retention: `[clickhouse] retention_days` as a TTL on every table, by the
//! time column it is partitioned on (months: expired data goes part by
//! part). Off by default; `dmarcflow migrate` applies it (again when it
//! changes). TTL needs ClickHouse 19.6: older servers keep everything.

use clickhouse::Client;

use super::ServerVersion;
use crate::StoreError;

/// Every table and the time its rows expire by.
pub const TABLES: [(&str, &str); 14] = [
    ("aggregate_reports", "date_begin"),
    ("aggregate_records", "date_begin"),
    ("failure_reports", "arrival_date"),
    ("tlsrpt_reports", "date_begin"),
    ("tlsrpt_policies", "date_begin"),
    ("tlsrpt_failures", "date_begin"),
    ("aggregate_by_source_daily", "day"),
    ("aggregate_by_result_daily", "day"),
    ("tlsrpt_by_result_daily", "day"),
    ("aggregate_by_host_daily", "day"),
    ("aggregate_by_sender_daily", "day"),
    ("aggregate_by_network_daily", "day"),
    ("aggregate_by_country_daily", "day"),
    ("aggregate_by_reporter_daily", "day"),
];

/// The statements that keep `days` days.
pub fn statements(days: u32) -> Vec<String> {
    TABLES
        .iter()
        .map(|(table, column)| {
            format!("ALTER TABLE {table} MODIFY TTL {column} + INTERVAL {days} DAY")
        })
        .collect()
}

/// What retention did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// None configured: nothing changed.
    Off,
    Applied {
        days: u32,
    },
    /// Configured, but the server has no TTL.
    Unsupported,
}

pub async fn apply(
    client: &Client,
    version: ServerVersion,
    days: Option<u32>,
) -> Result<Retention, StoreError> {
    let Some(days) = days else {
        return Ok(Retention::Off);
    };
    if version.0 < (19, 6) {
        return Ok(Retention::Unsupported);
    }
    for sql in statements(days) {
        client.query(&sql).execute().await?;
    }
    Ok(Retention::Applied { days })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ttl_per_table_by_its_time_column() {
        let s = super::statements(400);
        assert_eq!(s.len(), 14);
        assert_eq!(
            s[2],
            "ALTER TABLE failure_reports MODIFY TTL arrival_date + INTERVAL 400 DAY"
        );
    }
}
