//! The SQL that differs between the two stores, in one place. Every query
//! the reports, alerts and digests build is written once, with the pieces
//! below where ClickHouse and SQLite disagree:
//! - days and times: ClickHouse has `Date` and `DateTime` columns that
//!   compare with `toDate`/`toDateTime` values and print as text only
//!   through `toString`; SQLite keeps days as `YYYY-MM-DD` text and times
//!   as Unix seconds;
//! - text of other types: enums, numbers and addresses (ClickHouse keeps
//!   an address as `FixedString(16)`, IPv4 mapped into IPv6);
//! - counting (`count()` is ClickHouse's, `count(*)` both's but 18.16
//!   prints it differently), quoting (ClickHouse escapes with a
//!   backslash, SQLite doubles the quote);
//! - upserts: SQLite replaces a row by its key, ClickHouse keeps every
//!   version and a reader takes the newest (`argMax`);
//! - arrays (ClickHouse `ARRAY JOIN`, SQLite `json_each` over JSON text)
//!   and the newest rows per key (ClickHouse `LIMIT n BY`, SQLite a
//!   window function).

/// Which SQL dialect to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    ClickHouse,
    Sqlite,
}

impl Backend {
    /// A `YYYY-MM-DD` day (already validated) as a value the day columns
    /// compare with.
    pub fn day(self, day: &str) -> String {
        match self {
            Backend::ClickHouse => format!("toDate('{day}')"),
            Backend::Sqlite => format!("'{day}'"),
        }
    }

    /// `column BETWEEN from AND to` over a day column (both days included).
    pub fn days_between(self, column: &str, from: &str, to: &str) -> String {
        format!("{column} BETWEEN {} AND {}", self.day(from), self.day(to))
    }

    /// Unix seconds as a value the time columns compare with.
    pub fn time(self, seconds: i64) -> String {
        match self {
            Backend::ClickHouse => format!("toDateTime({seconds})"),
            Backend::Sqlite => seconds.to_string(),
        }
    }

    /// The first second of a `YYYY-MM-DD` day (UTC), as a time value.
    pub fn midnight(self, day: &str) -> String {
        match self {
            Backend::ClickHouse => format!("toDateTime('{day} 00:00:00', 'UTC')"),
            Backend::Sqlite => format!("unixepoch('{day}')"),
        }
    }

    /// A time column as `YYYY-MM-DD HH:MM:SS` text.
    pub fn time_text(self, column: &str) -> String {
        match self {
            Backend::ClickHouse => format!("toString({column})"),
            Backend::Sqlite => format!("datetime({column}, 'unixepoch')"),
        }
    }

    /// A time expression as Unix seconds.
    pub fn seconds(self, expression: &str) -> String {
        match self {
            Backend::ClickHouse => format!("toUInt32({expression})"),
            Backend::Sqlite => expression.to_owned(),
        }
    }

    /// Any column (an enum, a number, a day) as text.
    pub fn text(self, column: &str) -> String {
        match self {
            Backend::ClickHouse => format!("toString({column})"),
            Backend::Sqlite => format!("CAST({column} AS TEXT)"),
        }
    }

    /// A column that may be NULL as text, `''` for NULL.
    pub fn text_or_empty(self, column: &str) -> String {
        match self {
            Backend::ClickHouse => format!("ifNull(toString({column}), '')"),
            Backend::Sqlite => format!("coalesce(CAST({column} AS TEXT), '')"),
        }
    }

    /// An address column as text: IPv4 without the `::ffff:` that
    /// ClickHouse's `IPv6NumToString` puts before mapped addresses.
    pub fn ip_text(self, column: &str) -> String {
        match self {
            Backend::ClickHouse => {
                format!("replaceRegexpOne(IPv6NumToString({column}), '^::ffff:', '')")
            }
            Backend::Sqlite => column.to_owned(),
        }
    }

    /// Whether an array column (ClickHouse `Array`, SQLite JSON text) holds
    /// `value` (a known word: not quoted further).
    pub fn array_has(self, column: &str, value: &str) -> String {
        match self {
            Backend::ClickHouse => format!("arrayExists(x -> toString(x) = '{value}', {column})"),
            Backend::Sqlite => format!("(instr({column}, '\"{value}\"') > 0)"),
        }
    }

    /// The number of rows.
    pub fn count(self) -> &'static str {
        match self {
            Backend::ClickHouse => "count()",
            Backend::Sqlite => "count(*)",
        }
    }

    /// A string literal (the text may come from reports: outside data).
    pub fn quote(self, text: &str) -> String {
        match self {
            Backend::ClickHouse => {
                format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
            }
            Backend::Sqlite => format!("'{}'", text.replace('\'', "''")),
        }
    }

    /// The statement that writes a row over the row with its key.
    pub fn upsert(self) -> &'static str {
        match self {
            Backend::ClickHouse => "INSERT INTO",
            Backend::Sqlite => "INSERT OR REPLACE INTO",
        }
    }

    /// A column's value in the newest version of a key's row, in a query
    /// grouped by the key: ClickHouse keeps every version (`version`
    /// orders them), SQLite only the newest.
    pub fn newest(self, column: &str, version: &str) -> String {
        match self {
            Backend::ClickHouse => format!("argMax({column}, {version})"),
            Backend::Sqlite => column.to_owned(),
        }
    }

    /// A TLS-RPT failure's result type as text: ClickHouse keeps the known
    /// types as an enum and any other's text apart; SQLite keeps the text.
    pub fn tls_result(self) -> &'static str {
        match self {
            Backend::ClickHouse => {
                "if(toString(result_type) = 'other' AND result_type_text != '', result_type_text, toString(result_type))"
            }
            Backend::Sqlite => "result_type",
        }
    }

    /// A zero of the type session and message counts have (a UNION's
    /// columns must agree in ClickHouse).
    pub fn zero_count(self) -> &'static str {
        match self {
            Backend::ClickHouse => "toUInt64(0)",
            Backend::Sqlite => "0",
        }
    }

    /// A subquery with one row per element of two parallel array columns
    /// (`{a}_item`, `{b}_item`) of `table`'s rows matching `filter`, beside
    /// the `kept` columns.
    pub fn array_pairs(self, table: &str, kept: &[&str], a: &str, b: &str, filter: &str) -> String {
        let kept = kept.join(", ");
        match self {
            Backend::ClickHouse => format!(
                "SELECT {kept}, {a}_item, {b}_item FROM {table} \
                 ARRAY JOIN {a} AS {a}_item, {b} AS {b}_item WHERE {filter}"
            ),
            Backend::Sqlite => format!(
                "SELECT {kept}, ja.value AS {a}_item, jb.value AS {b}_item FROM {table}, \
                 json_each({table}.{a}) AS ja, json_each({table}.{b}) AS jb \
                 WHERE ja.key = jb.key AND {filter}"
            ),
        }
    }

    /// `columns` of the newest `n` rows (by `order`) of each `key` among
    /// `table`'s rows matching `filter`, by key, newest first.
    pub fn latest_per(
        self,
        table: &str,
        columns: &str,
        key: &str,
        order: &str,
        n: u32,
        filter: &str,
    ) -> String {
        match self {
            Backend::ClickHouse => format!(
                "SELECT {columns} FROM {table} WHERE {filter} \
                 ORDER BY {key}, {order} DESC LIMIT {n} BY {key}"
            ),
            Backend::Sqlite => format!(
                "SELECT {columns} FROM (SELECT *, row_number() OVER \
                 (PARTITION BY {key} ORDER BY {order} DESC) AS rank_in_key \
                 FROM {table} WHERE {filter}) WHERE rank_in_key <= {n} \
                 ORDER BY {key}, {order} DESC"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_outside_text() {
        assert_eq!(Backend::Sqlite.quote("o'k"), "'o''k'");
        assert_eq!(Backend::ClickHouse.quote("o'k\\"), "'o\\'k\\\\'");
    }

    #[test]
    fn days_and_times() {
        assert_eq!(
            Backend::ClickHouse.days_between("day", "2024-01-01", "2024-01-31"),
            "day BETWEEN toDate('2024-01-01') AND toDate('2024-01-31')"
        );
        assert_eq!(
            Backend::Sqlite.days_between("day", "2024-01-01", "2024-01-31"),
            "day BETWEEN '2024-01-01' AND '2024-01-31'"
        );
        assert_eq!(Backend::ClickHouse.time(86_400), "toDateTime(86400)");
        assert_eq!(
            Backend::Sqlite.midnight("2024-01-02"),
            "unixepoch('2024-01-02')"
        );
    }
}
