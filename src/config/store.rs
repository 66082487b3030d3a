//! `[clickhouse]` and `[sqlite]`: which store, and how to reach it
//! (`DMARCFLOW_CLICKHOUSE_*`, `DMARCFLOW_SQLITE_PATH`). No ClickHouse URL
//! means the embedded SQLite store. The ClickHouse password comes only
//! from `DMARCFLOW_CLICKHOUSE_PASSWORD` or a file (`password_file`), never
//! from the TOML itself, and is never printed.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dmarcflow_store::clickhouse::ClickHouseConfig;
use dmarcflow_store::{Secret, StoreConfig};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteSection {
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClickHouseSection {
    pub url: Option<String>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub retention_days: Option<u32>,
    pub cluster: Option<String>,
}

pub fn store(
    section: ClickHouseSection,
    sqlite: SqliteSection,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreConfig> {
    let url = env("DMARCFLOW_CLICKHOUSE_URL").or(section.url);
    Ok(match url.filter(|u| !u.is_empty()) {
        None => StoreConfig::Sqlite {
            path: env("DMARCFLOW_SQLITE_PATH")
                .map(PathBuf::from)
                .or(sqlite.path)
                .unwrap_or_else(|| PathBuf::from("dmarcflow.db")),
        },
        Some(url) => {
            let mut c = ClickHouseConfig::new(url);
            if let Some(db) = env("DMARCFLOW_CLICKHOUSE_DATABASE").or(section.database) {
                c.database = db;
            }
            c.user = env("DMARCFLOW_CLICKHOUSE_USER").or(section.user);
            let password_file = env("DMARCFLOW_CLICKHOUSE_PASSWORD_FILE")
                .map(PathBuf::from)
                .or(section.password_file);
            c.password = match (env("DMARCFLOW_CLICKHOUSE_PASSWORD"), password_file) {
                (Some(p), _) => Some(Secret::new(p)),
                (None, Some(path)) => Some(Secret::new(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading the password file {}", path.display()))?
                        .trim_end_matches(['\r', '\n'])
                        .to_owned(),
                )),
                (None, None) => None,
            };
            c.retention_days = match env("DMARCFLOW_CLICKHOUSE_RETENTION_DAYS") {
                Some(v) if v.trim().is_empty() => None,
                Some(v) => Some(
                    v.trim()
                        .parse()
                        .with_context(|| format!("DMARCFLOW_CLICKHOUSE_RETENTION_DAYS={v:?}"))?,
                ),
                None => section.retention_days,
            };
            c.cluster = env("DMARCFLOW_CLICKHOUSE_CLUSTER")
                .or(section.cluster)
                .filter(|c| !c.is_empty());
            if let Some(name) = &c.cluster {
                let plain = |ch: char| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-';
                if !name.chars().all(plain) {
                    bail!("clickhouse.cluster {name:?}: letters, digits, '_' and '-' only");
                }
            }
            StoreConfig::ClickHouse(c)
        }
    })
}
