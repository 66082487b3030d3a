//! The IMAP source against a real Dovecot (started by `.ci/dovecot.sh`,
//! found through `DMARCFLOW_IMAP_TEST_*`), with a recording bus that can be
//! made unavailable. Each test works in mailboxes of its own. Without the
//! server the tests skip, except under CI where they fail.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{connect, roots_from_pem, serve, AfterAck, ImapConfig, ImapSession, Security, Shared};
use dmarcflow_testkit::fixtures::report_email;
use dmarcflow_testkit::sources::Recording;

const NOT_A_REPORT: &str =
    "From: a@b.example\r\nTo: dmarc@example.com\r\nSubject: hello\r\n\r\nJust a note.\r\n";

/// The test server's settings, or None (skip) outside CI.
fn server(security: Security) -> Option<ImapConfig> {
    let server = dmarcflow_testkit::services::dovecot()?;
    let tls = roots_from_pem(&server.ca).unwrap_or_else(|e| panic!("{}: {e}", server.ca.display()));
    let mut config = ImapConfig::new(server.host, server.user, server.password, tls);
    config.security = security;
    config.port = match security {
        Security::Tls => server.tls_port,
        _ => server.port,
    };
    config.backoff_min = Duration::from_millis(100);
    config.backoff_max = Duration::from_millis(400);
    config.timeout = Duration::from_secs(10);
    Some(config)
}

/// A mailbox name no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{nanos}")
}

async fn client(config: &ImapConfig) -> ImapSession {
    connect(config).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn append(session: &mut ImapSession, mailbox: &str, message: &str) {
    session
        .append(mailbox, None, None, message.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("append to {mailbox}: {e}"));
}

/// How many messages a mailbox holds, and how many carry `keyword`.
async fn count(session: &mut ImapSession, mailbox: &str, keyword: Option<&str>) -> usize {
    session
        .select(mailbox)
        .await
        .unwrap_or_else(|e| panic!("select {mailbox}: {e}"));
    let query = keyword.map_or("ALL".to_owned(), |k| format!("KEYWORD {k}"));
    let found = session
        .search(query)
        .await
        .unwrap_or_else(|e| panic!("search: {e}"))
        .len();
    let _ = session.close().await;
    found
}

/// Polls until `mailbox` holds `expected` messages (with `keyword`), or fails.
async fn wait_count(
    session: &mut ImapSession,
    mailbox: &str,
    keyword: Option<&str>,
    expected: usize,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = count(session, mailbox, keyword).await;
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{mailbox} holds {now} messages ({keyword:?}), expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn start(
    config: ImapConfig,
    bus: &Arc<Recording>,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let shared = Arc::new(Shared::new(config, bus.clone()));
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(serve(shared, stopped)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_only_after_the_bus_acknowledged() {
    let Some(mut config) = server(Security::Tls) else {
        return;
    };
    let inbox = unique("acks");
    let (processed, invalid) = (format!("{inbox}-done"), format!("{inbox}-invalid"));
    let mut admin = client(&config).await;
    admin.create(&inbox).await.unwrap_or_else(|e| panic!("{e}"));
    append(&mut admin, &inbox, &report_email("imap-1")).await;
    append(&mut admin, &inbox, &report_email("imap-2")).await;
    append(&mut admin, &inbox, NOT_A_REPORT).await;

    config.mailboxes = vec![inbox.clone()];
    config.after = AfterAck::Move {
        processed: processed.clone(),
        invalid: invalid.clone(),
    };
    let bus = Arc::new(Recording::default());
    bus.down.store(true, Ordering::SeqCst);
    let (stop, running) = start(config, &bus);

    // The bus refuses: rounds fail and are retried, nothing moves.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(&mut admin, &inbox, None).await, 3);
    assert!(bus.reports.lock().map_or(true, |r| r.is_empty()));

    bus.down.store(false, Ordering::SeqCst);
    wait_count(&mut admin, &inbox, None, 0).await;
    assert_eq!(count(&mut admin, &processed, None).await, 2);
    assert_eq!(count(&mut admin, &invalid, None).await, 1);
    let mut reports = bus.reports.lock().map(|r| r.clone()).unwrap_or_default();
    reports.sort();
    reports.dedup();
    assert_eq!(reports.len(), 2, "two distinct reports: {reports:?}");
    let letters = bus.letters.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(letters, vec!["not_a_report".to_owned()]);

    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap_or_else(|_| panic!("the source did not stop"))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_wakes_for_new_mail_and_a_restart_resumes() {
    let Some(mut config) = server(Security::StartTls) else {
        return;
    };
    let inbox = unique("idle");
    let mut admin = client(&config).await;
    admin.create(&inbox).await.unwrap_or_else(|e| panic!("{e}"));
    config.mailboxes = vec![inbox.clone()];
    config.after = AfterAck::Flag;
    // Polling alone would take ten minutes: only IDLE can be this quick.
    config.poll_interval = Duration::from_secs(600);
    let bus = Arc::new(Recording::default());
    let (stop, running) = start(config.clone(), &bus);
    tokio::time::sleep(Duration::from_secs(1)).await;

    append(&mut admin, &inbox, &report_email("idle-1")).await;
    wait_count(&mut admin, &inbox, Some(super::PROCESSED_KEYWORD), 1).await;
    assert_eq!(bus.reports.lock().map_or(0, |r| r.len()), 1);

    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap_or_else(|_| panic!("the source did not stop while idle"))
        .unwrap_or_else(|e| panic!("{e}"));

    // Mail arriving while the source is down waits for the next start;
    // the flagged message is not read again.
    append(&mut admin, &inbox, &report_email("idle-2")).await;
    let (stop, running) = start(config, &bus);
    wait_count(&mut admin, &inbox, Some(super::PROCESSED_KEYWORD), 2).await;
    let reports = bus.reports.lock().map(|r| r.clone()).unwrap_or_default();
    assert_eq!(reports.len(), 2, "{reports:?}");
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_are_dead_lettered_unfetched() {
    let Some(mut config) = server(Security::Tls) else {
        return;
    };
    let inbox = unique("large");
    let mut admin = client(&config).await;
    admin.create(&inbox).await.unwrap_or_else(|e| panic!("{e}"));
    append(&mut admin, &inbox, &report_email("large-1")).await;
    config.mailboxes = vec![inbox.clone()];
    config.after = AfterAck::Flag;
    config.max_message_bytes = 200;
    let bus = Arc::new(Recording::default());
    let (stop, running) = start(config, &bus);
    wait_count(&mut admin, &inbox, Some(super::INVALID_KEYWORD), 1).await;
    let letters = bus.letters.lock().map(|l| l.clone()).unwrap_or_default();
    assert_eq!(letters, vec!["limit_exceeded".to_owned()]);
    assert_eq!(bus.reports.lock().map_or(0, |r| r.len()), 0);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), running).await;
}

#[test]
fn a_move_target_cannot_be_watched() {
    let tls = super::web_pki_roots().unwrap_or_else(|e| panic!("{e}"));
    let mut config = ImapConfig::new("imap.example", "u", "p", tls);
    assert!(config.check().is_ok());
    config.mailboxes.push("Archive/Processed".into());
    assert!(config.check().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_without_idle() {
    let Some(mut config) = server(Security::Tls) else {
        return;
    };
    let inbox = unique("poll");
    let mut admin = client(&config).await;
    admin.create(&inbox).await.unwrap_or_else(|e| panic!("{e}"));
    config.mailboxes = vec![inbox.clone()];
    config.after = AfterAck::Flag;
    config.idle = false;
    config.poll_interval = Duration::from_millis(300);
    let bus = Arc::new(Recording::default());
    let (stop, running) = start(config, &bus);
    tokio::time::sleep(Duration::from_millis(500)).await;
    append(&mut admin, &inbox, &report_email("poll-1")).await;
    wait_count(&mut admin, &inbox, Some(super::PROCESSED_KEYWORD), 1).await;
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap_or_else(|_| panic!("the source did not stop while polling"))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Servers without MOVE: COPY, `\Deleted`, then UID EXPUNGE (UIDPLUS) or
/// EXPUNGE. Dovecot offers MOVE, so the round is told it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moves_without_the_move_extension() {
    let Some(mut config) = server(Security::Tls) else {
        return;
    };
    let inbox = unique("copy");
    let (processed, invalid) = (format!("{inbox}-done"), format!("{inbox}-invalid"));
    let mut admin = client(&config).await;
    for mailbox in [&inbox, &processed, &invalid] {
        admin
            .create(mailbox)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    config.after = AfterAck::Move {
        processed: processed.clone(),
        invalid: invalid.clone(),
    };
    let shared = Shared::new(config.clone(), Arc::new(Recording::default()));
    let mut session = client(&config).await;
    for uidplus in [true, false] {
        append(
            &mut admin,
            &inbox,
            &report_email(&format!("copy-{uidplus}")),
        )
        .await;
        append(&mut admin, &inbox, NOT_A_REPORT).await;
        session
            .select(&inbox)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let abilities = super::round::Abilities { mv: false, uidplus };
        let settled = super::round::round(&shared, &mut session, &inbox, abilities)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settled, 2);
        assert_eq!(
            super::round::round(&shared, &mut session, &inbox, abilities)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            0,
            "nothing left (uidplus {uidplus})"
        );
        let _ = session.close().await;
    }
    assert_eq!(count(&mut admin, &inbox, None).await, 0);
    assert_eq!(count(&mut admin, &processed, None).await, 2);
    assert_eq!(count(&mut admin, &invalid, None).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_memory_budget_makes_the_source_wait() {
    let Some(mut config) = server(Security::Tls) else {
        return;
    };
    let inbox = unique("budget");
    let mut admin = client(&config).await;
    admin.create(&inbox).await.unwrap_or_else(|e| panic!("{e}"));
    append(&mut admin, &inbox, &report_email("budget-1")).await;
    config.mailboxes = vec![inbox.clone()];
    config.after = AfterAck::Flag;
    let bus = Arc::new(Recording::default());
    let budget = crate::MemoryBudget::new(8 << 20);
    // Someone else (an SMTP delivery, say) holds all of it.
    let held = budget.reserve(8 << 20).await;
    let shared = Arc::new(Shared::new(config, bus.clone()).with_budget(budget.clone()));
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(serve(shared, stopped));

    // The source waits with the message on the server: nothing read, nothing flagged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(bus.reports.lock().map_or(9, |r| r.len()), 0);
    assert_eq!(
        count(&mut admin, &inbox, Some(super::PROCESSED_KEYWORD)).await,
        0
    );

    // Room again: the waiting round goes on, and gives its share back.
    drop(held);
    wait_count(&mut admin, &inbox, Some(super::PROCESSED_KEYWORD), 1).await;
    assert_eq!(bus.reports.lock().map_or(0, |r| r.len()), 1);
    assert_eq!(budget.available(), 8 << 20);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), running).await;
}
