//! Dovecot -> `dmarcflow ingest` (the IMAP source) -> Kafka -> `dmarcflow
//! sink` -> ClickHouse, with real servers: Dovecot from `.ci/dovecot.sh`
//! (`DMARCFLOW_IMAP_TEST_*`), the broker (`DMARCFLOW_KAFKA_BROKERS`) and
//! ClickHouse (`DMARCFLOW_CLICKHOUSE_URL`). Without them the test skips,
//! except under CI, where it fails.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ReportIds, Rig};

use dmarcflow_ingest::imap::{connect, roots_from_pem, ImapConfig, ImapSession, Security};

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Dovecot's settings over TLS, or None (skip) outside CI.
fn dovecot() -> Option<ImapConfig> {
    let server = dmarcflow_testkit::services::dovecot()?;
    let tls = roots_from_pem(&server.ca).unwrap_or_else(|e| panic!("{}: {e}", server.ca.display()));
    let mut config = ImapConfig::new(server.host, server.user, server.password, tls);
    config.security = Security::Tls;
    config.port = server.tls_port;
    Some(config)
}

fn corpus_emails() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs: Vec<PathBuf> = dmarcflow_testkit::corpus::root().into_iter().collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "eml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

async fn messages(session: &mut ImapSession, mailbox: &str) -> usize {
    session
        .select(mailbox)
        .await
        .unwrap_or_else(|e| panic!("select {mailbox}: {e}"));
    let n = session
        .search("ALL")
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .len();
    let _ = session.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_appended_to_dovecot_lands_in_clickhouse_and_is_moved_after_the_ack() {
    let Some(config) = dovecot() else {
        return;
    };
    let Some(mut rig) = Rig::new("imap") else {
        return;
    };
    let emails = corpus_emails();
    assert!(!emails.is_empty(), "no .eml in the corpus");
    let mailbox = rig.prefix.replace("imap-", "rua-");
    let (done, invalid) = (format!("{mailbox}-done"), format!("{mailbox}-invalid"));
    for (name, value) in [
        ("DMARCFLOW_IMAP_HOST", config.host.clone()),
        ("DMARCFLOW_IMAP_PORT", config.port.to_string()),
        ("DMARCFLOW_IMAP_USERNAME", config.username.clone()),
        ("DMARCFLOW_IMAP_PASSWORD", config.password.clone()),
        (
            "DMARCFLOW_IMAP_CA_FILE",
            var("DMARCFLOW_IMAP_TEST_CA").unwrap_or_default(),
        ),
        ("DMARCFLOW_IMAP_MAILBOXES", mailbox.clone()),
        ("DMARCFLOW_IMAP_PROCESSED_FOLDER", done.clone()),
        ("DMARCFLOW_IMAP_INVALID_FOLDER", invalid.clone()),
    ] {
        rig.env.push((name.to_owned(), value));
    }
    rig.run(&["migrate"]);

    // The truth: what parsing the same emails gives, email by email.
    let mut ids = ReportIds::default();
    let mut with_reports = 0;
    for email in &emails {
        let path = email.display().to_string();
        let parsed = rig.run(&[
            "parse",
            "--no-progress",
            "--rejects",
            "rejects.jsonl",
            &path,
        ]);
        with_reports += usize::from(ids.add(&parsed) > 0);
    }
    assert!(!ids.aggregate.is_empty() && !ids.failure.is_empty() && !ids.tlsrpt.is_empty());

    let mut admin = connect(&config).await.unwrap_or_else(|e| panic!("{e}"));
    admin
        .create(&mailbox)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for email in &emails {
        let data = std::fs::read(email).unwrap_or_else(|e| panic!("{e}"));
        admin
            .append(&mailbox, None, None, &data)
            .await
            .unwrap_or_else(|e| panic!("append {}: {e}", email.display()));
    }

    // The sink first: it must not miss topics the ingester creates later.
    let mut sink = rig.spawn(&["sink"]);
    std::thread::sleep(Duration::from_secs(1));
    let mut ingest = rig.spawn(&["ingest"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting = messages(&mut admin, &mailbox).await;
        let stored = rig.count("SELECT count() FROM aggregate_reports");
        if waiting == 0 && stored == ids.aggregate.len() as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} messages still waiting, {stored} aggregate reports stored\n{}",
            rig.logs()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // SIGTERM: the ingester settles its round and logs out.
    let _ = Command::new("kill").arg(ingest.id().to_string()).status();
    let _ = Command::new("kill").arg(sink.id().to_string()).status();
    let ingest_status = ingest.wait().unwrap_or_else(|e| panic!("{e}"));
    let _ = sink.wait();
    assert!(
        ingest_status.success(),
        "ingest exits cleanly on SIGTERM: {ingest_status}"
    );

    assert_eq!(
        messages(&mut admin, &done).await,
        with_reports,
        "every email with a report is in the processed folder"
    );
    assert_eq!(
        messages(&mut admin, &invalid).await,
        emails.len() - with_reports,
        "every email without one is in the invalid folder"
    );
    rig.assert_stored_once(&ids);
}
