//! `dmarcflow clickhouse-sql PATHS` (hidden): every statement dmarcflow
//! sends to ClickHouse, as JSON lines `{"kind", "name", "sql"}`, for the
//! reports of PATHS: the migrations, the migration ledger, the sink's dedup
//! lookups and insert settings, and the `report` command's queries. The
//! chDB check (`.ci/chdb_check.py`) runs them on the current release, which
//! the tests' server (Debian's 18.16) is not.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Result;
use dmarcflow_ingest::files::{discover, FilesSource, Found};
use dmarcflow_schemas::{ddl::CLICKHOUSE, Report};
use dmarcflow_store::clickhouse::{
    lookup_queries, INSERT_SETTINGS, LEDGER, LEDGER_READ, LEDGER_WRITE,
};
use dmarcflow_store::summary::{day, Backend, Scope, View};
use serde_json::json;

pub fn run(paths: &[PathBuf]) -> Result<()> {
    let mut out = Vec::new();
    for m in CLICKHOUSE {
        for sql in m.statements() {
            out.push(json!({"kind": "migration", "name": m.name, "sql": sql}));
        }
    }
    for m in CLICKHOUSE {
        for statement in m.statements() {
            for sql in dmarcflow_store::clickhouse::cluster::rewrite(
                &statement,
                "dmarcflow",
                "dmarcflow",
                m.version,
            )? {
                out.push(json!({"kind": "cluster", "name": format!("{} on a cluster", m.name), "sql": sql}));
            }
        }
    }
    out.push(json!({"kind": "cluster", "name": "ledger on a cluster", "sql": dmarcflow_store::clickhouse::cluster::ledger("dmarcflow", "dmarcflow")}));
    for days in [36_500, 400] {
        for sql in dmarcflow_store::clickhouse::retention::statements(days) {
            out.push(
                json!({"kind": "retention", "name": format!("retention {days} days"), "sql": sql}),
            );
        }
    }
    let write = LEDGER_WRITE
        .replacen('?', "1", 1)
        .replacen('?', "'0001_reports.sql'", 1);
    for (name, sql) in [("ledger", LEDGER), ("ledger read", LEDGER_READ)] {
        out.push(json!({"kind": "ledger", "name": name, "sql": sql}));
    }
    out.push(json!({"kind": "ledger", "name": "ledger write", "sql": write}));
    let settings: serde_json::Map<String, serde_json::Value> = INSERT_SETTINGS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    out.push(json!({"kind": "insert_settings", "name": "insert", "settings": settings}));

    let source = FilesSource::default();
    let mut reports = Vec::new();
    for input in discover(paths)? {
        source.read(&input, 0, |found| {
            if let Found::Report(r) = found {
                reports.push(r);
            }
            Ok::<(), anyhow::Error>(())
        })?;
    }
    for sql in lookup_queries(&reports) {
        out.push(json!({"kind": "lookup", "name": "dedup lookup", "sql": sql}));
    }
    let mut scopes = BTreeSet::new();
    for r in &reports {
        if let Report::Aggregate(a) = &r.report {
            let begin = day(a.metadata.begin);
            scopes.insert((a.policy_published.domain.to_string(), begin));
        }
    }
    for (domain, begin) in scopes {
        let Ok(scope) = Scope::new(&domain, &begin, &begin) else {
            continue;
        };
        for view in View::ALL {
            out.push(json!({"kind": "report", "name": format!("by {} {domain}", view.name()), "sql": view.sql(Backend::ClickHouse, &scope)}));
        }
        for (name, sql) in dmarcflow_enforce::queries(Backend::ClickHouse, &scope) {
            out.push(json!({"kind": "report", "name": format!("{name} {domain}"), "sql": sql}));
        }
        for (name, sql) in
            dmarcflow_enforce::mta_sts::queries(Backend::ClickHouse, &scope, &scope.from)
        {
            out.push(json!({"kind": "report", "name": format!("{name} {domain}"), "sql": sql}));
        }
    }
    // The alert rules over the examples' first day.
    let alerts = dmarcflow_alerts::AlertsConfig::default();
    if let Ok(period) = dmarcflow_alerts::rules::Period::new("2023-11-21", &alerts) {
        for (rule, sql) in dmarcflow_alerts::rules::queries(Backend::ClickHouse, &period) {
            out.push(
                json!({"kind": "alert", "name": format!("alert rule {}", rule.name()), "sql": sql}),
            );
        }
    }
    // The posture watch's queries (the examples' month).
    let since = 1_698_796_800; // 2023-11-01
    for (name, sql) in [
        (
            "watch domains",
            dmarcflow_watch::reports::domains_sql(Backend::ClickHouse, since),
        ),
        (
            "watch selectors",
            dmarcflow_watch::reports::selectors_sql(Backend::ClickHouse, since),
        ),
        (
            "watch history",
            dmarcflow_watch::history::latest_sql(Backend::ClickHouse, 2),
        ),
    ] {
        out.push(json!({"kind": "report", "name": name, "sql": sql}));
    }
    for line in out {
        println!("{line}");
    }
    Ok(())
}
