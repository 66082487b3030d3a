//! The storage DDL as numbered migrations: ClickHouse (`schemas/clickhouse/`)
//! and the embedded SQLite store (`schemas/sqlite/`). The store crate applies
//! them in order and records each in a migrations table.

/// One numbered migration file.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal => $file:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!("../", $dir, "/", $file)),
        }),*]
    };
}

/// ClickHouse migrations, in order.
pub const CLICKHOUSE: &[Migration] = migrations!("clickhouse":
    1 => "0001_reports.sql",
    2 => "0002_failure_tlsrpt.sql",
    3 => "0003_daily_aggregations.sql",
    4 => "0004_insert_dedup_window.sql",
    5 => "0005_daily_dedup_window.sql",
    6 => "0006_current_schema.sql",
    7 => "0007_source_intelligence.sql",
    8 => "0008_source_intelligence_current.sql",
    9 => "0009_alert_state.sql",
    10 => "0010_sender_identification.sql",
    11 => "0011_sender_identification_current.sql",
    12 => "0012_domain_checks.sql",
    13 => "0013_mta_sts_modes.sql",
    14 => "0014_certificate_renewals.sql",
    15 => "0015_flattened_spf.sql",
    16 => "0016_failure_privacy.sql",
);

/// SQLite migrations, in order. Each file runs as one batch.
pub const SQLITE: &[Migration] = migrations!("sqlite":
    1 => "0001_reports.sql",
    2 => "0002_daily_aggregations.sql",
    3 => "0003_source_intelligence.sql",
    4 => "0004_alert_state.sql",
    5 => "0005_sender_identification.sql",
    6 => "0006_domain_checks.sql",
    7 => "0007_mta_sts_modes.sql",
    8 => "0008_certificate_renewals.sql",
    9 => "0009_flattened_spf.sql",
    10 => "0010_failure_privacy.sql",
);

impl Migration {
    /// The statements of a ClickHouse migration: comments removed, split on
    /// `;` (no statement of ours has one inside).
    pub fn statements(&self) -> Vec<String> {
        let text: String = self
            .sql
            .lines()
            .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
            .collect::<Vec<_>>()
            .join("\n");
        text.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The oldest server the migration runs on, from a leading
    /// `-- min_server_version: MAJOR.MINOR` line.
    pub fn min_server_version(&self) -> Option<(u32, u32)> {
        let line = self.sql.lines().next()?;
        let version = line.strip_prefix("-- min_server_version:")?.trim();
        let (major, minor) = version.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order() {
        for list in [CLICKHOUSE, SQLITE] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version as usize, i + 1);
                assert!(m.name.starts_with(&format!("{:04}_", m.version)));
            }
        }
    }

    #[test]
    fn clickhouse_statements_split() {
        let first = CLICKHOUSE[0].statements();
        assert_eq!(first.len(), 2);
        assert!(first[0].starts_with("CREATE TABLE IF NOT EXISTS aggregate_reports"));
        assert_eq!(CLICKHOUSE[0].min_server_version(), None);
        assert_eq!(CLICKHOUSE[3].min_server_version(), Some((22, 2)));
    }
}
