//! What can go wrong while storing or querying.

/// A storage failure. `is_transient` tells the retry policy what to retry.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] ::clickhouse::error::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration {name}: {message}")]
    Migration { name: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
    #[error("encoding a row: {0}")]
    Encode(String),
    /// A sink's lease on its partitions ran out mid-write (`dmarcflow_lease::Lease`).
    #[error(transparent)]
    LeaseLost(#[from] dmarcflow_lease::LeaseLost),
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        attempts: u32,
        last: Box<StoreError>,
    },
}

impl StoreError {
    /// Whether trying again may succeed: network trouble and server-side
    /// failures are transient; bad SQL, bad configuration and bad data are not.
    pub fn is_transient(&self) -> bool {
        use ::clickhouse::error::Error as Ch;
        match self {
            Self::ClickHouse(Ch::Network(_) | Ch::TimedOut) => true,
            Self::ClickHouse(Ch::BadResponse(text)) => !is_permanent_server_error(text),
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// ClickHouse errors that a retry cannot fix: syntax, unknown table or
/// column, type mismatch, unknown setting.
fn is_permanent_server_error(text: &str) -> bool {
    const PERMANENT: &[&str] = &[
        "Code: 62,",  // SYNTAX_ERROR
        "Code: 60,",  // UNKNOWN_TABLE
        "Code: 16,",  // NO_SUCH_COLUMN_IN_TABLE
        "Code: 47,",  // UNKNOWN_IDENTIFIER
        "Code: 115,", // UNKNOWN_SETTING
        "Code: 81,",  // UNKNOWN_DATABASE
        "Code: 53,",  // TYPE_MISMATCH
        "Code: 516,", // AUTHENTICATION_FAILED
        "Code: 192,", // UNKNOWN_USER
        "Code: 193,", // WRONG_PASSWORD
    ];
    PERMANENT.iter().any(|code| text.contains(code))
}
