//! `dmarcflow query` and `dmarcflow report` against ClickHouse: any SQL, the
//! result as a [`Table`] (read as TabSeparatedWithNames).

use clickhouse::Client;

use crate::{StoreError, Table};

pub async fn query(client: &Client, sql: &str) -> Result<Table, StoreError> {
    let mut cursor = client.query(sql).fetch_bytes("TabSeparatedWithNames")?;
    let mut body = Vec::new();
    while let Some(chunk) = cursor.next().await? {
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&body);
    let mut lines = text.lines();
    let columns = lines.next().map(split).unwrap_or_default();
    Ok(Table {
        columns,
        rows: lines.map(split).collect(),
    })
}

/// One TSV line, ClickHouse escapes undone.
fn split(line: &str) -> Vec<String> {
    line.split('\t').map(unescape).collect()
}

fn unescape(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tsv_escapes() {
        assert_eq!(super::split("a\\tb\tc\\\\"), vec!["a\tb", "c\\"]);
    }
}
