//! The ClickHouse store against a real server (`$DMARCFLOW_CLICKHOUSE_URL`,
//! default `http://127.0.0.1:8123`; `.ci/run` starts one). Without a
//! server the tests skip, except under CI (`CI=true`) where that is a
//! failure. Each test works in a database of its own, dropped first.

mod support;

use dmarcflow_store::clickhouse::encoder::{aggregate_record, AggregateRecordRow};
use dmarcflow_store::clickhouse::{connect, migrate, ClickHouseSink, INSERT_SETTINGS};
use dmarcflow_store::summary::{by_result, by_source, Backend, Scope};
use dmarcflow_store::Store;
use dmarcflow_testkit::reports::{generated, in_parts, ingested};
use support::{assert_stored, corpus_sink, fresh, totals, write_all, Totals};

#[tokio::test]
async fn migrations_apply_twice() {
    let Some(config) = fresh("migrations").await else {
        return;
    };
    let (server, version) = connect(&config).await.unwrap_or_else(|e| panic!("{e}"));
    let again = migrate(&server, &config.database, version, None)
        .await
        .unwrap_or_else(|e| panic!("second migrate: {e}"));
    assert!(again.applied.is_empty(), "{again:?}");
    assert_eq!(
        again.already.len() + again.skipped.len(),
        dmarcflow_schemas::ddl::CLICKHOUSE.len()
    );
    if version.0 < (22, 2) {
        assert_eq!(
            again.skipped,
            [
                "0004_insert_dedup_window.sql",
                "0005_daily_dedup_window.sql",
                "0006_current_schema.sql",
                "0008_source_intelligence_current.sql",
                "0011_sender_identification_current.sql"
            ]
        );
    }
}

/// The same block inserted twice with its dedup token (what a retry does
/// when its first attempt was written but not heard): the records and the
/// daily tables the materialized views fill count it once.
#[tokio::test]
async fn a_block_repeated_with_its_token_is_counted_once_in_the_daily_tables() {
    let Some(config) = fresh("token_retry").await else {
        return;
    };
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if !sink.server_version().supports_insert_dedup_token() {
        // 18.16 has no insert tokens: the lookup is its only guard
        // (a_batch_cut_short_after_its_records_is_stored_once_when_retried);
        // the chDB check (.ci/chdb_check.py) repeats this on the current
        // release.
        eprintln!(
            "skipping: ClickHouse {:?} has no insert_deduplication_token",
            sink.server_version()
        );
        return;
    }
    let reports = [generated(7, 120), generated(8, 45)];
    let rows: Vec<AggregateRecordRow<'_>> = reports
        .iter()
        .flat_map(|r| {
            r.records
                .iter()
                .enumerate()
                .map(move |(i, rec)| aggregate_record(r, i as u64, rec))
        })
        .collect();
    let messages: u64 = reports
        .iter()
        .flat_map(|a| a.records.iter().map(|r| r.count))
        .sum();
    for _ in 0..2 {
        let mut insert = sink
            .client()
            .insert::<AggregateRecordRow<'static>>("aggregate_records")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .with_setting("insert_deduplication_token", "the-same-block");
        for (name, value) in INSERT_SETTINGS {
            insert = insert.with_setting(name, value);
        }
        for row in &rows {
            insert.write(row).await.unwrap_or_else(|e| panic!("{e}"));
        }
        insert.end().await.unwrap_or_else(|e| panic!("{e}"));
    }
    let store = Store::ClickHouse(Box::new(sink));
    for (sql, want) in [
        ("SELECT count() FROM aggregate_records", 165),
        (
            "SELECT sum(messages) FROM aggregate_by_source_daily",
            messages,
        ),
        (
            "SELECT sum(messages) FROM aggregate_by_result_daily",
            messages,
        ),
    ] {
        let table = store.query(sql).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.rows[0][0], want.to_string(), "{sql}");
    }
}

#[tokio::test]
async fn corpus_twice_is_stored_once() {
    let Some((sink, reports)) = corpus_sink("corpus").await else {
        return;
    };
    let first = write_all(&sink, &reports).await;
    let second = write_all(&sink, &reports).await;
    let expected = totals(&reports);
    assert!(
        expected.aggregate_reports > 50 && expected.tls_reports > 5 && expected.failure_reports > 5,
        "{expected:?}"
    );
    assert_eq!(
        first.reports,
        expected.aggregate_reports + expected.failure_reports + expected.tls_reports
    );
    assert_eq!(
        (second.reports, second.rows),
        (0, 0),
        "the replay stored something"
    );
    assert_stored(&Store::ClickHouse(Box::new(sink)), &expected).await;
}

/// A write that dies after the records went in and before the report rows
/// (the proxy drops the report rows' insert unsent, and the sink has no
/// attempt left): the retry must not insert the records again.
#[tokio::test]
async fn a_batch_cut_short_after_its_records_is_stored_once_when_retried() {
    let Some(config) = fresh("retry").await else {
        return;
    };
    let whole = vec![ingested(generated(1, 700)), ingested(generated(2, 30))];
    let mut cut = config.clone();
    cut.url = proxy(&config.url, "aggregate_reports", Sabotage::RequestDropped).await;
    cut.retry.attempts = 1;
    let cut = ClickHouseSink::connect(cut)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cut.write(&whole).await.is_err(), "the cut write succeeded");
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Cut where intended: every record in, no report row.
    let store = Store::ClickHouse(Box::new(sink));
    for (sql, want) in [
        ("SELECT count() FROM aggregate_records", "730"),
        ("SELECT count() FROM aggregate_reports", "0"),
    ] {
        let table = store.query(sql).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.rows[0][0], want, "{sql}");
    }
    let Store::ClickHouse(sink) = store else {
        unreachable!("a ClickHouse store");
    };
    let retried = sink.write(&whole).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(retried.reports, 2);
    // A large report in parts, the first part delivered twice, then all
    // parts again (a redelivery after a crash).
    let big = generated(3, 2500);
    let parts = in_parts(&big, 1000);
    sink.write(&parts[..1])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sink.write(&parts[..1])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sink.write(&parts).await.unwrap_or_else(|e| panic!("{e}"));
    let again = sink.write(&parts).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((again.reports, again.rows), (0, 0));
    let mut all = whole.clone();
    all.extend(parts);
    let expected: Totals = totals(&all);
    assert_eq!(expected.aggregate_reports, 3);
    assert_eq!(expected.records, 3230);
    let store = Store::ClickHouse(sink);
    assert_stored(&store, &expected).await;
    let header = store
        .query(&format!(
            "SELECT record_count, message_count FROM aggregate_reports WHERE report_id = '{}'",
            big.id
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        header.rows,
        [[2500.to_string(), big.message_count().to_string()]]
    );
}

#[tokio::test]
async fn values_read_back() {
    let Some(config) = fresh("values").await else {
        return;
    };
    let sink = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut report = generated(4, 2);
    report.records[0].source_ip = "2001:db8::7".into();
    report.records[1].disposition = Some(dmarcflow_schemas::aggregate::Disposition::Other(
        "weird".into(),
    ));
    report.policy_published.p = Some(dmarcflow_schemas::aggregate::PolicyAction::Reject);
    sink.write(&[ingested(report)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = Store::ClickHouse(Box::new(sink));
    let t = store
        .query(&format!(
            "SELECT {}, toString(disposition), other_values, message_count \
                 FROM aggregate_records ORDER BY record_index",
            Backend::ClickHouse.ip_text("source_ip")
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.rows[0][0], "2001:db8::7");
    assert_eq!(t.rows[1][0], "198.51.100.1");
    assert_eq!(t.rows[1][1], "other");
    assert_eq!(t.rows[1][2], "['disposition=weird']");
    let p = store
        .query("SELECT toString(p), toString(date_begin) FROM aggregate_reports")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.rows, [["reject", "2024-01-01 00:00:00"]]);
}

/// The plugin's macros as it expands them (grafana-clickhouse-datasource
/// v4), over a range covering the whole corpus.
fn expand(sql: &str, domain: &str) -> String {
    let mut out = sql.replace("${domain}", domain);
    for (name, expansion) in [
        (
            "$__timeFilter(",
            "{c} >= toDateTime(946684800) AND {c} <= toDateTime(1893456000)",
        ),
        (
            "$__dateFilter(",
            "{c} >= toDate('2000-01-01') AND {c} <= toDate('2030-01-01')",
        ),
    ] {
        while let Some(at) = out.find(name) {
            let rest = &out[at + name.len()..];
            let close = rest
                .find(')')
                .unwrap_or_else(|| panic!("unclosed macro in {sql}"));
            let column = rest[..close].trim().to_owned();
            let replaced = expansion.replace("{c}", &column);
            out.replace_range(at..at + name.len() + close + 1, &replaced);
        }
    }
    assert!(
        !out.contains("$__") && !out.contains("${"),
        "unexpanded macro: {out}"
    );
    out
}

/// Every panel of every dashboard in deploy/grafana runs against the
/// corpus-seeded ClickHouse and returns rows; a broken query fails here.
#[tokio::test]
async fn grafana_panels_run() {
    let Some((sink, mut reports)) = corpus_sink("grafana").await else {
        return;
    };
    // The corpus as a source with [enrich] publishes it: every address with
    // a made-up host, sender, network and country (the enrichment panels
    // read those), the emails verified.
    for item in &mut reports {
        item.reporter = Some(dmarcflow_schemas::ReporterAuth {
            verdict: dmarcflow_schemas::reporter_auth::Verdict::Aligned,
            dkim: Some("pass".into()),
            dkim_domain: Some("reporter.example".into()),
            spf: None,
        });
        if let dmarcflow_schemas::Report::Aggregate(r) = &mut item.report {
            for (i, record) in r.records.iter_mut().enumerate() {
                let n = i % 3;
                record.source = Some(Box::new(dmarcflow_schemas::Source {
                    ip: record.source_ip.to_string(),
                    ptr: Some(format!("mail{n}.sender{n}.example")),
                    ptr_confirmed: true,
                    base_domain: Some(format!("sender{n}.example")),
                    name: Some(format!("Sender {n}")),
                    kind: Some("esp".into()),
                    asn: Some(64500 + n as u32),
                    as_name: Some(format!("Network {n}")),
                    as_domain: Some(format!("network{n}.example")),
                    country: Some(["NL", "US", "BR"][n].into()),
                    lookup_failed: false,
                    identified_by: Some("ptr".into()),
                }));
            }
        }
    }
    write_all(&sink, &reports).await;
    let mut store = Store::ClickHouse(Box::new(sink));
    // A domain posture check, as the watch stores one (the posture
    // dashboard reads them).
    store
        .execute(
            "INSERT INTO domain_checks (domain, checked_at, score, grade, critical, warnings, \
             dmarc_record, dmarc_policy, spf_record, spf_lookups, spf_void_lookups, dkim, \
             mta_sts_record, mta_sts_mode, mta_sts_policy, tlsrpt_record, bimi_record, mx, mx_tls, \
             enforcement, findings, document) VALUES ('example.com', toDateTime(1704067200), 86, 'B', \
             0, 2, 'v=DMARC1; p=none', 'none', 'v=spf1 -all', 0, 0, '', '', '', '', '', '', \
             '10\\tmx.example.com', 'mx.example.com\\tyes\\tvalid\\t1735689600', 'not_ready', '[]', '{}')",
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = store;
    let pick = |sql: &'static str| {
        let store = &store;
        async move {
            let t = store
                .query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            t.rows
                .first()
                .map(|r| r[0].clone())
                .unwrap_or_else(|| panic!("no domain: {sql}"))
        }
    };
    let dashboards = [
        ("aggregate.json", pick("SELECT policy_domain FROM aggregate_by_source_daily GROUP BY policy_domain HAVING sum(dmarc_fail) > 0 ORDER BY sum(messages) DESC LIMIT 1").await),
        ("failure.json", pick("SELECT reported_domain FROM failure_reports GROUP BY reported_domain ORDER BY count() DESC LIMIT 1").await),
        ("tlsrpt.json", pick("SELECT policy_domain FROM tlsrpt_failures GROUP BY policy_domain ORDER BY count() DESC LIMIT 1").await),
        ("posture.json", pick("SELECT domain FROM domain_checks LIMIT 1").await),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/grafana/dashboards");
    let mut panels = 0;
    for (file, domain) in dashboards {
        let text =
            std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let board: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut queries: Vec<(String, String)> = Vec::new();
        for var in board["templating"]["list"].as_array().into_iter().flatten() {
            queries.push((
                format!("variable {}", var["name"]),
                var["query"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        for panel in board["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                queries.push((
                    panel["title"].to_string(),
                    target["rawSql"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        assert!(queries.len() >= 4, "{file}: too few queries");
        for (title, sql) in queries {
            let sql = expand(&sql, &domain);
            let table = store
                .query(&sql)
                .await
                .unwrap_or_else(|e| panic!("{file} {title}: {e}\n{sql}"));
            assert!(
                !table.rows.is_empty(),
                "{file} {title} returned nothing for {domain}\n{sql}"
            );
            panels += 1;
        }
    }
    assert!(panels >= 20, "{panels} queries");
    // The provisioned Grafana alert rules: their structure, and every
    // query run (rows for the failing sources and the TLS failures the
    // corpus holds).
    let path = dir.join("../provisioning/alerting/dmarcflow-rules.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let alerting: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let datasources =
        std::fs::read_to_string(dir.join("../provisioning/datasources/clickhouse.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(alerting["apiVersion"], 1);
    let mut uids = std::collections::BTreeSet::new();
    let mut with_rows = Vec::new();
    for group in alerting["groups"].as_array().into_iter().flatten() {
        for key in ["orgId", "name", "folder", "interval"] {
            assert!(!group[key].is_null(), "group without {key}");
        }
        for rule in group["rules"].as_array().into_iter().flatten() {
            let title = rule["title"].as_str().unwrap_or_default();
            assert!(uids.insert(rule["uid"].to_string()), "uid twice: {title}");
            assert!(!rule["annotations"]["summary"]
                .as_str()
                .unwrap_or_default()
                .is_empty());
            assert!(matches!(
                rule["noDataState"].as_str(),
                Some("OK" | "NoData" | "Alerting")
            ));
            assert!(matches!(
                rule["execErrState"].as_str(),
                Some("OK" | "Error" | "Alerting")
            ));
            let data = rule["data"].as_array().cloned().unwrap_or_default();
            let refs: Vec<&str> = data.iter().filter_map(|d| d["refId"].as_str()).collect();
            assert!(
                refs.contains(&rule["condition"].as_str().unwrap_or_default()),
                "{title}"
            );
            for node in &data {
                let model = &node["model"];
                assert_eq!(model["refId"], node["refId"], "{title}");
                match node["datasourceUid"].as_str() {
                    Some("__expr__") => {
                        let input = model["expression"].as_str().unwrap_or_default();
                        assert!(refs.contains(&input), "{title}: {input} is no query");
                        assert!(matches!(
                            model["type"].as_str(),
                            Some("reduce" | "threshold" | "math")
                        ));
                        if model["type"] == "threshold" {
                            let op = &model["conditions"][0]["evaluator"]["type"];
                            assert!(matches!(
                                op.as_str(),
                                Some("gt" | "lt" | "within_range" | "outside_range")
                            ));
                        }
                    }
                    Some(uid) => {
                        assert!(
                            datasources.contains(&format!("uid: {uid}")),
                            "{title}: datasource {uid}"
                        );
                        let sql = expand(model["rawSql"].as_str().unwrap_or_default(), "");
                        let table = store
                            .query(&sql)
                            .await
                            .unwrap_or_else(|e| panic!("alert rule {title}: {e}\n{sql}"));
                        assert_eq!(
                            table.columns.last().map(String::as_str),
                            Some("value"),
                            "{title}"
                        );
                        if !table.rows.is_empty() {
                            with_rows.push(title.to_owned());
                        }
                    }
                    None => panic!("{title}: a node without a datasource"),
                }
            }
        }
    }
    assert_eq!(uids.len(), 6);
    for title in [
        "A source failing DMARC in volume (spoofing)",
        "TLS-RPT failure sessions",
    ] {
        assert!(
            with_rows.iter().any(|t| t == title),
            "{title}: {with_rows:?}"
        );
    }
    // And the tables of `dmarcflow report`.
    let domain = pick("SELECT policy_domain FROM aggregate_reports GROUP BY policy_domain ORDER BY count() DESC LIMIT 1").await;
    let scope = Scope::new(&domain, "2000-01-01", "2030-01-01").unwrap_or_else(|e| panic!("{e}"));
    for sql in [
        by_source(Backend::ClickHouse, &scope),
        by_result(Backend::ClickHouse, &scope),
    ] {
        let t = store
            .query(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{sql}"));
        assert!(!t.rows.is_empty(), "{sql}");
    }
}

/// What the proxy does to the first request that inserts into its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sabotage {
    /// Sent on, and the connection dropped once the server has answered:
    /// the insert is done, the sink hears a network error.
    AnswerLost,
    /// Never sent: the connection is dropped as the request arrives (a
    /// crash between two inserts of a batch).
    RequestDropped,
}

/// A proxy to the ClickHouse at `url` that lets requests through but the
/// first that inserts into `table`; its own URL.
async fn proxy(url: &str, table: &'static str, sabotage: Sabotage) -> String {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    let target = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let armed = Arc::new(AtomicBool::new(true));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&target).await else {
                continue;
            };
            let armed = armed.clone();
            tokio::spawn(async move {
                let (mut client_rx, mut client_tx) = client.into_split();
                let (mut server_rx, mut server_tx) = server.into_split();
                let hit = Arc::new(AtomicBool::new(false));
                let flag = hit.clone();
                let upstream = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = client_rx.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let chunk = String::from_utf8_lossy(&buf[..n]);
                        if chunk.contains("INSERT")
                            && chunk.contains(table)
                            && armed.swap(false, Ordering::SeqCst)
                        {
                            flag.store(true, Ordering::SeqCst);
                            if sabotage == Sabotage::RequestDropped {
                                break;
                            }
                        }
                        if server_tx.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = server_rx.read(&mut buf).await {
                    if n == 0 || hit.load(Ordering::SeqCst) {
                        break;
                    }
                    if client_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                upstream.abort();
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn an_insert_whose_answer_is_lost_is_retried_once() {
    let Some(config) = fresh("lost_answer").await else {
        return;
    };
    let mut lossy = config.clone();
    lossy.url = proxy(&config.url, "aggregate_records", Sabotage::AnswerLost).await;
    lossy.retry.initial_backoff = std::time::Duration::from_millis(10);
    let sink = ClickHouseSink::connect(lossy)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let batch = vec![ingested(generated(5, 300)), ingested(generated(6, 20))];
    let summary = sink.write(&batch).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.reports, 2);
    // The records went in on the first attempt: the retry wrote only the report rows.
    assert_eq!(summary.rows, 2, "{summary:?}");
    let expected = totals(&batch);
    let direct = ClickHouseSink::connect(config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_stored(&Store::ClickHouse(Box::new(direct)), &expected).await;
}

#[tokio::test]
async fn personal_columns_are_replaced_once() {
    let Some(config) = fresh("personal").await else {
        return;
    };
    let mut store = Store::open(&dmarcflow_store::StoreConfig::ClickHouse(config))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    support::personal_columns_are_replaced_once(&mut store).await;
}
