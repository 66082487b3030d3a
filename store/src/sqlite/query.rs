//! Any SQL against the embedded store, the result as a [`Table`].

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::{StoreError, Table};

pub fn query(conn: &Connection, sql: &str) -> Result<Table, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let width = columns.len();
    let mut rows = Vec::new();
    let mut cursor = stmt.query([])?;
    while let Some(row) = cursor.next()? {
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            cells.push(match row.get_ref(i)? {
                ValueRef::Null => String::new(),
                ValueRef::Integer(n) => n.to_string(),
                ValueRef::Real(x) => x.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Blob(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            });
        }
        rows.push(cells);
    }
    Ok(Table { columns, rows })
}
