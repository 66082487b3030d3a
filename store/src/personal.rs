//! Failure reports' personal columns, for `dmarcflow privacy apply` (rows
//! stored before a privacy mode was set are protected in place) and
//! `dmarcflow ruf show` (one sealed blob read back).
//!
//! Rows are taken in `report_id` order among those still `clear`, so each
//! round takes the next ones and a run cut short resumes where it stopped.
//! SQLite updates each row by its key; ClickHouse has no row update, so a
//! round is one mutation (`ALTER TABLE ... UPDATE`, each column picked per
//! row by the row's place in the id list), waited for before the next
//! round reads.

use std::borrow::Cow;
use std::time::Duration;

use dmarcflow_schemas::failure::{FailureReport, FeedbackType, Personal};

use crate::dialect::Backend;
use crate::{Store, StoreError};

/// A failure report's personal columns as stored ('' where empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonalRow {
    pub report_id: String,
    pub original_mail_from: String,
    pub original_rcpt_to: Vec<String>,
    pub original_envelope_id: String,
    pub authentication_results: Vec<String>,
    pub dkim_identity: String,
    pub original_from: String,
    pub original_to: String,
    pub original_subject: String,
    pub original_message_id: String,
    pub report_subject: String,
    pub sample: String,
    pub personal: Personal,
    pub sealed: String,
}

/// Columns of the text kind, in the order of [`PersonalRow::texts`].
const TEXT_COLUMNS: [&str; 10] = [
    "original_mail_from",
    "original_envelope_id",
    "dkim_identity",
    "original_from",
    "original_to",
    "original_subject",
    "original_message_id",
    "report_subject",
    "sample",
    "sealed",
];
const LIST_COLUMNS: [&str; 2] = ["original_rcpt_to", "authentication_results"];

/// What separates a list's items when ClickHouse prints it (a control
/// character no address or header holds).
const ITEM_SEPARATOR: char = '\u{1f}';

/// The longest a ClickHouse mutation may take before the command gives up
/// (a round rewrites the parts holding its rows: seconds, not minutes; a
/// mutation the server cannot apply is retried by it forever, and 18.16
/// keeps no reason in `system.mutations`).
const MUTATION_WAIT: Duration = Duration::from_secs(120);

impl PersonalRow {
    /// The columns as a report (the rest of the report empty), for
    /// `dmarcflow_privacy` to protect.
    pub fn to_report(&self) -> FailureReport<'_> {
        let text = |t: &'_ str| (!t.is_empty()).then(|| Cow::Owned(t.to_owned()));
        let mut r = FailureReport::new(FeedbackType::AuthFailure);
        r.id = self.report_id.clone();
        r.original_mail_from = text(&self.original_mail_from);
        r.original_rcpt_to = self
            .original_rcpt_to
            .iter()
            .cloned()
            .map(Cow::Owned)
            .collect();
        r.original_envelope_id = text(&self.original_envelope_id);
        r.authentication_results = self
            .authentication_results
            .iter()
            .cloned()
            .map(Cow::Owned)
            .collect();
        r.dkim_identity = text(&self.dkim_identity);
        r.original_from = text(&self.original_from);
        r.original_to = text(&self.original_to);
        r.original_subject = text(&self.original_subject);
        r.original_message_id = text(&self.original_message_id);
        r.report_subject = text(&self.report_subject);
        r.sample = text(&self.sample);
        r.personal = self.personal;
        r.sealed = text(&self.sealed);
        r
    }

    /// The columns of a (protected) report.
    pub fn from_report(r: &FailureReport<'_>) -> Self {
        let text = |t: &Option<Cow<'_, str>>| t.as_deref().unwrap_or("").to_owned();
        let list = |l: &[Cow<'_, str>]| l.iter().map(|t| t.to_string()).collect();
        Self {
            report_id: r.id.clone(),
            original_mail_from: text(&r.original_mail_from),
            original_rcpt_to: list(&r.original_rcpt_to),
            original_envelope_id: text(&r.original_envelope_id),
            authentication_results: list(&r.authentication_results),
            dkim_identity: text(&r.dkim_identity),
            original_from: text(&r.original_from),
            original_to: text(&r.original_to),
            original_subject: text(&r.original_subject),
            original_message_id: text(&r.original_message_id),
            report_subject: text(&r.report_subject),
            sample: text(&r.sample),
            personal: r.personal,
            sealed: text(&r.sealed),
        }
    }

    fn texts(&self) -> [&str; 10] {
        [
            &self.original_mail_from,
            &self.original_envelope_id,
            &self.dkim_identity,
            &self.original_from,
            &self.original_to,
            &self.original_subject,
            &self.original_message_id,
            &self.report_subject,
            &self.sample,
            &self.sealed,
        ]
    }

    /// [`PersonalRow::texts`], to be filled.
    fn texts_mut(&mut self) -> [&mut String; 10] {
        [
            &mut self.original_mail_from,
            &mut self.original_envelope_id,
            &mut self.dkim_identity,
            &mut self.original_from,
            &mut self.original_to,
            &mut self.original_subject,
            &mut self.original_message_id,
            &mut self.report_subject,
            &mut self.sample,
            &mut self.sealed,
        ]
    }

    fn lists(&self) -> [&[String]; 2] {
        [&self.original_rcpt_to, &self.authentication_results]
    }

    /// A row read back: the id, the texts, the lists, `personal`, as
    /// [`select`] lists them.
    fn read(cells: &[String], backend: Backend) -> Result<Self, StoreError> {
        let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
        let list = |i: usize| -> Result<Vec<String>, StoreError> {
            let text = cell(i);
            match backend {
                Backend::Sqlite => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Encode(format!("a stored list: {e}"))),
                Backend::ClickHouse if text.is_empty() => Ok(Vec::new()),
                Backend::ClickHouse => Ok(text.split(ITEM_SEPARATOR).map(str::to_owned).collect()),
            }
        };
        let lists = 1 + TEXT_COLUMNS.len();
        let personal = cell(lists + LIST_COLUMNS.len());
        let mut row = Self {
            report_id: cell(0),
            original_rcpt_to: list(lists)?,
            authentication_results: list(lists + 1)?,
            personal: Personal::from_stored(&personal)
                .ok_or_else(|| StoreError::Encode(format!("personal = {personal:?}")))?,
            ..Self::default()
        };
        for (slot, i) in row.texts_mut().into_iter().zip(1..) {
            *slot = cell(i);
        }
        Ok(row)
    }
}

/// The SELECT of personal rows matching `filter`.
fn select(backend: Backend, filter: &str, limit: usize) -> String {
    let lists = LIST_COLUMNS.map(|c| match backend {
        Backend::ClickHouse => {
            format!("arrayStringConcat(arrayMap(x -> toString(x), {c}), '\\x1F') AS {c}")
        }
        Backend::Sqlite => c.to_owned(),
    });
    format!(
        "SELECT report_id, {}, {}, personal FROM failure_reports WHERE {filter} ORDER BY report_id LIMIT {limit}",
        TEXT_COLUMNS.join(", "),
        lists.join(", ")
    )
}

impl Store {
    /// Up to `limit` failure reports still kept in clear.
    pub async fn clear_failure_reports(
        &self,
        limit: usize,
    ) -> Result<Vec<PersonalRow>, StoreError> {
        let backend = self.backend();
        let table = self
            .query(&select(backend, "personal = 'clear'", limit))
            .await?;
        table
            .rows
            .iter()
            .map(|cells| PersonalRow::read(cells, backend))
            .collect()
    }

    /// One failure report's personal columns, by its id.
    pub async fn failure_report_personal(
        &self,
        id: &str,
    ) -> Result<Option<PersonalRow>, StoreError> {
        let backend = self.backend();
        let filter = format!("report_id = {}", backend.quote(id));
        let table = self.query(&select(backend, &filter, 1)).await?;
        table
            .rows
            .first()
            .map(|cells| PersonalRow::read(cells, backend))
            .transpose()
    }

    /// After the last `replace_personal`: no copy of the replaced text
    /// left on disk where the store can see to it (SQLite's free pages and
    /// log). ClickHouse deletes a mutation's old parts itself, after its
    /// `old_parts_lifetime` (8 minutes by default).
    pub async fn forget_replaced(&mut self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => s.forget_replaced(),
            Store::ClickHouse(_) => Ok(()),
        }
    }

    /// Writes protected personal columns over the clear ones (rows no
    /// longer clear are left alone: a second run changes nothing).
    pub async fn replace_personal(&mut self, rows: &[PersonalRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let backend = self.backend();
        match self {
            Store::Sqlite(s) => {
                let mut sql = String::new();
                for row in rows {
                    let mut sets: Vec<String> = TEXT_COLUMNS
                        .iter()
                        .zip(row.texts())
                        .map(|(c, v)| format!("{c} = {}", backend.quote(v)))
                        .collect();
                    for (c, v) in LIST_COLUMNS.iter().zip(row.lists()) {
                        let json = serde_json::to_string(v)
                            .map_err(|e| StoreError::Encode(e.to_string()))?;
                        sets.push(format!("{c} = {}", backend.quote(&json)));
                    }
                    sets.push(format!("personal = '{}'", row.personal.as_str()));
                    // The clear text of the row is zeroed, not just freed.
                    if sql.is_empty() {
                        sql.push_str("PRAGMA secure_delete = ON;\n");
                    }
                    sql.push_str(&format!(
                        "UPDATE failure_reports SET {} WHERE report_id = {} AND personal = 'clear';\n",
                        sets.join(", "),
                        backend.quote(&row.report_id)
                    ));
                }
                s.execute(&sql)
            }
            Store::ClickHouse(s) => {
                let ids: Vec<String> = rows.iter().map(|r| backend.quote(&r.report_id)).collect();
                let ids = ids.join(", ");
                let pick = |values: Vec<String>| {
                    format!("[{}][indexOf([{ids}], report_id)]", values.join(", "))
                };
                let mut sets = Vec::new();
                for (i, c) in TEXT_COLUMNS.iter().enumerate() {
                    let values = rows.iter().map(|r| backend.quote(r.texts()[i])).collect();
                    sets.push(format!("{c} = {}", pick(values)));
                }
                for (i, c) in LIST_COLUMNS.iter().enumerate() {
                    let values = rows
                        .iter()
                        .map(|r| {
                            let items: Vec<String> =
                                r.lists()[i].iter().map(|v| backend.quote(v)).collect();
                            format!("CAST([{}] AS Array(String))", items.join(", "))
                        })
                        .collect();
                    sets.push(format!("{c} = {}", pick(values)));
                }
                let personal = rows
                    .iter()
                    .map(|r| format!("'{}'", r.personal.as_str()))
                    .collect();
                sets.push(format!("personal = {}", pick(personal)));
                let sql = format!(
                    "ALTER TABLE failure_reports UPDATE {} WHERE report_id IN ({ids}) AND personal = 'clear'",
                    sets.join(", ")
                );
                // The values are inline: allow a statement as large as they are.
                let client = s
                    .client()
                    .clone()
                    .with_setting("max_query_size", (sql.len() + 1024).to_string());
                client.query(&sql).execute().await?;
                wait_for_mutations(&client).await
            }
        }
    }
}

/// Until no mutation of `failure_reports` is left undone.
async fn wait_for_mutations(client: &::clickhouse::Client) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        let pending = crate::clickhouse::query(
            client,
            "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = 'failure_reports' AND is_done = 0",
        )
        .await?;
        let left = pending
            .rows
            .first()
            .and_then(|r| r.first())
            .map_or("0", |c| c.as_str());
        if left == "0" {
            return Ok(());
        }
        if started.elapsed() > MUTATION_WAIT {
            return Err(StoreError::Config(format!(
                "{left} mutations of failure_reports still running after {} s (system.mutations and the server's error log say why)",
                MUTATION_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
