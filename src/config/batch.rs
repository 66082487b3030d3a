//! `[batch]`: how the store batches its writes (`DMARCFLOW_BATCH_*`).

use std::time::Duration;

use anyhow::Result;
use dmarcflow_store::BatchConfig;
use serde::Deserialize;

use super::value::number;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSection {
    pub max_rows: Option<usize>,
    pub max_bytes: Option<usize>,
    pub max_age_ms: Option<u64>,
    pub linger_ms: Option<u64>,
}

pub fn batch(section: &BatchSection, env: &dyn Fn(&str) -> Option<String>) -> Result<BatchConfig> {
    let mut batch = BatchConfig::default();
    let number = |name: &str, from_file: Option<u64>| number(env, name, from_file);
    let as_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    if let Some(v) = number(
        "DMARCFLOW_BATCH_MAX_ROWS",
        section.max_rows.map(|v| v as u64),
    )? {
        batch.max_rows = as_usize(v).max(1);
    }
    if let Some(v) = number(
        "DMARCFLOW_BATCH_MAX_BYTES",
        section.max_bytes.map(|v| v as u64),
    )? {
        batch.max_bytes = as_usize(v).max(1);
    }
    if let Some(v) = number("DMARCFLOW_BATCH_MAX_AGE_MS", section.max_age_ms)? {
        batch.max_age = Duration::from_millis(v);
    }
    if let Some(v) = number("DMARCFLOW_BATCH_LINGER_MS", section.linger_ms)? {
        batch.linger = Duration::from_millis(v);
    }
    Ok(batch)
}
