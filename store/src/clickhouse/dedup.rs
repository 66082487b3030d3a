//! Per-batch dedup: which of a batch's reports (and which of their rows)
//! ClickHouse already holds, so that replays and duplicate deliveries — the
//! same report mailed to two rua addresses, an IMAP re-fetch, a Kafka
//! redelivery, a retried insert whose reply was lost — leave exactly one copy
//! in every table and every daily aggregation.
//!
//! How a batch is written (`sink.rs`): child rows first (records, TLS
//! policies and failure details), report rows last. The report row is the
//! commit mark: a report whose row exists is complete and skipped whole.
//! For a report without one, the rows already present are skipped:
//! - records resume by count: records go in in index order, and one insert
//!   of one report's records (all in one monthly partition) is one part,
//!   written whole or not at all, so the records present are a prefix
//!   `0..n` and `max(record_index) + 1` is `n`. This also places the parts of a
//!   large report (`Part`) one after the other.
//! - TLS policies and failure details of a report go in one insert each; a
//!   report present in a table is present whole.
//!
//! A retry re-runs these checks before writing again, so a write that
//! failed half way (or succeeded without us hearing it) is finished, not
//! repeated. On servers that have them (22.2+) an `insert_deduplication_token`
//! per insert is a second guard.
//!
//! Several sink instances: the checks and inserts are not one transaction,
//! so two instances writing the same report at the same moment could both
//! see it absent. They do not: Kafka partitions by report identity, so each
//! key has one consumer in the group at a time, and a report's parts and
//! redeliveries all reach the same instance, in order. (During a rebalance
//! the previous owner stops before the new one starts on committed
//! offsets.)

use std::collections::{HashMap, HashSet};

use clickhouse::Client;
use serde::Deserialize;

use crate::StoreError;

/// Ids per query, to stay far below the server's max_query_size.
const CHUNK: usize = 1000;

/// Extra conditions on a table's sorting-key columns (`column IN (...)`,
/// values already SQL literals), so a lookup reads index ranges, not the
/// table: the records table grows by billions of rows.
pub type KeyFilter<'a> = [(&'a str, Vec<String>)];

/// Distinct values as string literals.
pub fn strings<'s>(values: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> = values.into_iter().collect();
    set.into_iter().map(quote).collect()
}

/// Distinct Unix times as DateTime literals.
pub fn times(values: impl IntoIterator<Item = i64>) -> Vec<String> {
    let set: std::collections::BTreeSet<u32> =
        values.into_iter().map(crate::values::datetime).collect();
    set.into_iter()
        .map(|t| format!("toDateTime({t})"))
        .collect()
}

fn conditions(keys: &KeyFilter<'_>) -> String {
    keys.iter()
        .map(|(column, values)| format!("{column} IN ({}) AND ", values.join(", ")))
        .collect()
}

/// The lookup `present` sends for one chunk of ids.
pub fn present_sql(table: &str, keys: &KeyFilter<'_>, ids: &[&str]) -> String {
    format!(
        "SELECT DISTINCT report_id FROM {table} WHERE {}report_id IN ({})",
        conditions(keys),
        list(ids)
    )
}

/// The lookup `records_present` sends for one chunk of ids.
pub fn records_present_sql(keys: &KeyFilter<'_>, ids: &[&str]) -> String {
    format!(
        "SELECT report_id, toUInt64(max(record_index) + 1) AS stored FROM aggregate_records \
         WHERE {}report_id IN ({}) GROUP BY report_id",
        conditions(keys),
        list(ids)
    )
}

/// The ids among `ids` that `table` holds.
pub async fn present(
    client: &Client,
    table: &str,
    keys: &KeyFilter<'_>,
    ids: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let mut found = HashSet::new();
    if ids.is_empty() {
        return Ok(found);
    }
    for chunk in ids.chunks(CHUNK) {
        let sql = present_sql(table, keys, chunk);
        let rows: Vec<String> = client.query(&sql).fetch_all().await?;
        found.extend(rows);
    }
    Ok(found)
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct Count {
    report_id: String,
    stored: u64,
}

/// How many records of each report `aggregate_records` holds (the prefix
/// length; reports with none are absent from the map).
pub async fn records_present(
    client: &Client,
    keys: &KeyFilter<'_>,
    ids: &[&str],
) -> Result<HashMap<String, u64>, StoreError> {
    let mut found = HashMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    for chunk in ids.chunks(CHUNK) {
        let sql = records_present_sql(keys, chunk);
        let rows: Vec<Count> = client.query(&sql).fetch_all().await?;
        found.extend(rows.into_iter().map(|c| (c.report_id, c.stored)));
    }
    Ok(found)
}

/// `'a', 'b'`.
fn list(values: &[&str]) -> String {
    let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
    items.join(", ")
}

/// A ClickHouse string literal.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::list(&["a", "o'b\\"]), r"'a', 'o\'b\\'");
        assert_eq!(super::strings(["b", "a", "b"]), ["'a'", "'b'"]);
        assert_eq!(super::times([5, -1, 5]), ["toDateTime(0)", "toDateTime(5)"]);
    }
}
