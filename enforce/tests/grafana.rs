//! The Grafana dashboard's senders-by-class panel classifies as this crate
//! does: its SQL holds `class::sql` for ClickHouse, verbatim (the store
//! tests run every panel against a real server).

use dmarcflow_enforce::class;
use dmarcflow_store::summary::Backend;

#[test]
fn the_dashboard_classifies_as_the_crate_does() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/grafana/dashboards/aggregate.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let board: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let panel = board["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Senders by class"))
        })
        .unwrap_or_else(|| panic!("no senders-by-class panel"));
    let sql = panel["targets"][0]["rawSql"].as_str().unwrap_or_default();
    assert!(
        sql.contains(&format!("{} AS class", class::sql(Backend::ClickHouse))),
        "the panel's classification differs from dmarcflow_enforce::class::sql:\n{sql}"
    );
}
