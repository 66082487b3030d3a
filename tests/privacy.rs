//! Failure reports' personal data (`[privacy]`), looked for where the data
//! lands. Generated failure reports (testkit's, every personal field a
//! distinctive word) and the corpus' (copied under neutral file names: some
//! corpus file names quote the report's addresses and subject) go through
//! `run` into SQLite and through SMTP -> Apache Kafka -> ClickHouse, in
//! `encrypt` and `redact` mode; then the bytes are searched: the SQLite
//! file and its log, the broker's log segments (written uncompressed, so a
//! clear string would be there to find), ClickHouse's data directory, the
//! topics' messages, every log line. A `clear` run is the control: the
//! same search finds the words there.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{isolated, Killed, Rig};
use dmarcflow_testkit::generator::failure::{abuse_email, failure_email, holds_marker, SENDERS};

/// Generated failure reports per run.
const GENERATED: usize = 20;

/// The inputs: generated reports, two ARF emails that are not DMARC
/// reports (dead letters), and the corpus' failure reports; with what
/// each report held in clear (from `dmarcflow parse`, by report id).
struct Inputs {
    dir: PathBuf,
    /// Every file, for SMTP delivery.
    files: Vec<PathBuf>,
    truth: HashMap<String, serde_json::Value>,
    /// Report ids of the generated reports, in order.
    generated: Vec<String>,
    /// Whole addresses and subjects of the corpus' reports.
    corpus_strings: Vec<String>,
}

/// The personal fields as `dmarcflow_privacy::PersonalFields` seals them.
const PERSONAL_FIELDS: &[&str] = &[
    "original_mail_from",
    "original_rcpt_to",
    "original_envelope_id",
    "original_from",
    "original_to",
    "original_subject",
    "original_message_id",
    "report_subject",
    "description",
    "dkim_identity",
    "dkim_canonicalized_header",
    "dkim_canonicalized_body",
    "authentication_results",
    "reported_uri",
    "sample",
];

fn inputs(root: &Path) -> Option<Inputs> {
    let corpus = dmarcflow_testkit::corpus::root()?;
    let dir = root.join("inputs");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut files = Vec::new();
    let mut write = |name: String, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        files.push(path);
    };
    for n in 0..GENERATED {
        write(format!("generated-{n:02}.eml"), &failure_email(n));
    }
    for n in 0..2 {
        write(format!("abuse-{n}.eml"), &abuse_email(100 + n));
    }
    let mut corpus_files: Vec<PathBuf> = walk(&corpus)
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "forensic"))
        .collect();
    corpus_files.sort();
    for (n, file) in corpus_files.iter().enumerate() {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{e}"));
        write(format!("corpus-{n:02}.eml"), &bytes);
    }
    // The truth: what each report held, parsed in clear.
    let out = dmarcflow(
        root,
        &[],
        &["parse", "--no-progress", dir.to_str().unwrap_or_default()],
    );
    let mut truth = HashMap::new();
    let mut generated = Vec::new();
    let mut corpus_strings = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        if v["kind"] != "failure" {
            continue;
        }
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        if v["user_agent"] == "dmarcflow-testkit/1.0" {
            generated.push((v["original_envelope_id"].to_string(), id.clone()));
        } else {
            corpus_strings.extend(strings_of(&v));
        }
        // The same report twice (the corpus has a CRLF copy of one):
        // the first is the one stored.
        truth.entry(id).or_insert(v);
    }
    generated.sort();
    assert_eq!(generated.len(), GENERATED, "generated reports parsed");
    assert!(truth.len() > GENERATED + 3, "corpus failure reports parsed");
    corpus_strings.sort();
    corpus_strings.dedup();
    Some(Inputs {
        dir,
        files,
        truth,
        generated: generated.into_iter().map(|(_, id)| id).collect(),
        corpus_strings,
    })
}

/// A working directory and the inputs in it, when `tools` are installed
/// (a failure under CI when one is missing) and the corpus is there.
fn setup(tools: &[&str]) -> Option<(tempfile::TempDir, Inputs)> {
    if !tools.iter().all(|tool| common::have(tool)) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let inputs = inputs(dir.path())?;
    Some((dir, inputs))
}

/// `dir/name`, made.
fn subdir(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{e}"));
    path
}

/// Whole addresses (local part of 3 characters or more) and subjects (10
/// or more) of a parsed report: what redaction must never leave.
fn strings_of(v: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for field in ["original_mail_from", "original_from", "original_to"] {
        texts.extend(v[field].as_str().map(str::to_owned));
    }
    for rcpt in v["original_rcpt_to"].as_array().into_iter().flatten() {
        texts.extend(rcpt.as_str().map(str::to_owned));
    }
    for text in texts {
        for word in text.split(|c: char| c.is_whitespace() || "<>,;\"'()".contains(c)) {
            if let Some((local, domain)) = word.split_once('@') {
                if local.len() >= 3 && domain.contains('.') {
                    out.push(word.to_owned());
                }
            }
        }
    }
    if let Some(subject) = v["original_subject"].as_str() {
        if subject.len() >= 10 {
            out.push(subject.to_owned());
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// What of the personal data is in `bytes` (a marker, or a corpus string).
fn leaked(bytes: &[u8], inputs: &Inputs) -> Option<String> {
    if let Some(marker) = holds_marker(bytes) {
        return Some(marker.to_owned());
    }
    inputs
        .corpus_strings
        .iter()
        .find(|s| memchr::memmem::find(bytes, s.as_bytes()).is_some())
        .cloned()
}

/// Every file under `dir` that holds personal data, with what it holds.
fn leaks_under(dir: &Path, inputs: &Inputs) -> Vec<String> {
    walk(dir)
        .into_iter()
        .filter(|p| !p.starts_with(&inputs.dir))
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            leaked(&bytes, inputs).map(|what| format!("{}: {what}", p.display()))
        })
        .collect()
}

/// Nothing personal in a command's `log` or in the files under `dir`.
fn assert_clean(log: &str, dir: &Path, inputs: &Inputs) {
    assert_eq!(leaked(log.as_bytes(), inputs), None, "in the log: {log}");
    assert_eq!(leaks_under(dir, inputs), Vec::<String>::new());
}

/// Two age identities (Debian's `age-keygen`) and their recipients: the
/// first inline, the second in a recipients file.
fn age_keys(dir: &Path) -> ([PathBuf; 2], String) {
    let mut keys = Vec::new();
    let mut recipients = Vec::new();
    for name in ["owner-1.key", "owner-2.key"] {
        let path = dir.join(name);
        let out = Command::new("age-keygen")
            .arg("-o")
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("age-keygen: {e}"));
        let public = String::from_utf8_lossy(&out.stderr)
            .split_whitespace()
            .find(|w| w.starts_with("age1"))
            .unwrap_or_else(|| panic!("no public key from age-keygen"))
            .to_owned();
        keys.push(path);
        recipients.push(public);
    }
    let file = dir.join("owner-2.recipients");
    std::fs::write(
        &file,
        format!("# the second owner key\n{}\n", recipients[1]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let list = format!("{},{}", recipients[0], file.display());
    ([keys[0].clone(), keys[1].clone()], list)
}

/// `age -d -i key` of `sealed`: the plaintext.
fn age_open(key: &Path, sealed: &[u8], scratch: &Path) -> Vec<u8> {
    let blob = scratch.join("blob.age");
    std::fs::write(&blob, sealed).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(key)
        .arg(&blob)
        .output()
        .unwrap_or_else(|e| panic!("age: {e}"));
    assert!(
        out.status.success(),
        "age -d: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The sealed fields equal the report's fields as parsed, field by field.
fn assert_opens_to_truth(plain: &[u8], truth: &serde_json::Value) {
    let opened: serde_json::Value =
        serde_json::from_slice(plain).unwrap_or_else(|e| panic!("sealed JSON: {e}"));
    for field in PERSONAL_FIELDS {
        assert_eq!(opened[field], truth[field], "{field}");
    }
    assert_eq!(
        opened["other_fields"],
        truth
            .get("other_fields")
            .cloned()
            .unwrap_or(serde_json::json!([]))
    );
}

/// The binary in `dir` under `env` (none of the environment's settings),
/// run to its end.
fn dmarcflow(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    isolated(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("dmarcflow {args:?}: {e}"))
}

/// `dmarcflow ruf show ID --identity KEY`: what it printed.
fn ruf_show(dir: &Path, env: &[(&str, String)], id: &str, key: &Path) -> Vec<u8> {
    let key = key.to_str().unwrap_or_default();
    let out = dmarcflow(dir, env, &["ruf", "show", id, "--identity", key]);
    assert!(
        out.status.success(),
        "ruf show: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// gpg on the key ring in `home`, without a passphrase or a pinentry.
fn gpg(home: &Path, args: &[&str]) -> Output {
    let out = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("gpg: {e}"));
    assert!(
        out.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `dmarcflow run` of the inputs into `db`, under `env`; its output.
fn run_into(dir: &Path, db: &Path, inputs: &Inputs, env: &[(&str, String)]) -> String {
    let out = isolated(dir)
        .env("RUST_LOG", "trace")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("run")
        .arg("--db")
        .arg(db)
        .arg(&inputs.dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.code() == Some(1), "run (2 rejected): {text}");
    text
}

/// One query's rows through `dmarcflow query` (newlines in cells sent as
/// `|` and put back).
fn rows(dir: &Path, db: &Path, sql: &str) -> Vec<Vec<String>> {
    let sqlite = [("DMARCFLOW_SQLITE_PATH", db.display().to_string())];
    let out = dmarcflow(dir, &sqlite, &["query", sql]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(|c| c.replace('|', "\n")).collect())
        .collect()
}

#[test]
fn run_into_sqlite_keeps_no_personal_data_in_encrypt_and_redact_mode() {
    let Some((dir, inputs)) = setup(&["age"]) else {
        return;
    };

    // The control: kept in clear, the search finds the words.
    let clear = subdir(dir.path(), "clear");
    let log = run_into(
        dir.path(),
        &clear.join("store.db"),
        &inputs,
        &[("DMARCFLOW_PRIVACY_FAILURE_REPORTS", "clear".into())],
    );
    assert!(
        log.contains("failure_reports = \"clear\""),
        "clear is logged: {log}"
    );
    assert!(
        !leaks_under(&clear, &inputs).is_empty(),
        "the control finds nothing"
    );

    // encrypt, to two owners' keys.
    let (keys, recipients) = age_keys(dir.path());
    let sealed = subdir(dir.path(), "sealed");
    let db = sealed.join("store.db");
    let log = run_into(
        dir.path(),
        &db,
        &inputs,
        &[("DMARCFLOW_PRIVACY_RECIPIENTS", recipients)],
    );
    assert_clean(&log, &sealed, &inputs);
    let stored = rows(
        dir.path(),
        &db,
        "SELECT report_id, personal, replace(sealed, char(10), '|') FROM failure_reports",
    );
    assert_eq!(
        stored.len(),
        inputs.truth.len(),
        "every failure report stored"
    );
    for row in &stored {
        assert_eq!(row[1], "sealed", "{}", row[0]);
        let truth = &inputs.truth[&row[0]];
        for key in &keys {
            assert_opens_to_truth(&age_open(key, row[2].as_bytes(), dir.path()), truth);
        }
    }
    // dmarcflow opens one too.
    let id = &inputs.generated[3];
    let sqlite = [("DMARCFLOW_SQLITE_PATH", db.display().to_string())];
    let shown = ruf_show(dir.path(), &sqlite, id, &keys[1]);
    assert_opens_to_truth(&shown, &inputs.truth[id]);

    // redact, with the secret generated beside the store.
    let redacted = subdir(dir.path(), "redacted");
    let log = run_into(dir.path(), &redacted.join("store.db"), &inputs, &[]);
    assert_clean(&log, &redacted, &inputs);
    assert!(redacted.join("dmarcflow-privacy.secret").is_file());
    let senders = |db: &Path| -> BTreeMap<String, usize> {
        let ids: Vec<String> = inputs.generated.iter().map(|i| format!("'{i}'")).collect();
        let sql = format!(
            "SELECT report_id, personal, original_mail_from, original_subject, replace(replace(sample, char(13), ''), char(10), '|') FROM failure_reports WHERE report_id IN ({})",
            ids.join(",")
        );
        let mut count = BTreeMap::new();
        for row in rows(dir.path(), db, &sql) {
            assert_eq!(
                (row[1].as_str(), row[3].as_str()),
                ("redacted", ""),
                "{row:?}"
            );
            assert!(row[4].starts_with("Authentication-Results: "), "{row:?}");
            *count.entry(row[2].clone()).or_insert(0) += 1;
        }
        count
    };
    // The same sender hashes the same: five senders, four reports each.
    let first = senders(&redacted.join("store.db"));
    assert_eq!(first.len(), SENDERS, "{first:?}");
    for (address, reports) in &first {
        let (local, domain) = address.split_once('@').unwrap_or_default();
        assert_eq!(
            (local.len(), domain, *reports),
            (16, "example.com", GENERATED / SENDERS)
        );
    }
    // Another secret, other hashes.
    let other = subdir(dir.path(), "other");
    let secret = dir.path().join("another.secret");
    std::fs::write(&secret, "another secret of enough length\n").unwrap_or_else(|e| panic!("{e}"));
    run_into(
        dir.path(),
        &other.join("store.db"),
        &inputs,
        &[(
            "DMARCFLOW_PRIVACY_HASH_SECRET_FILE",
            secret.display().to_string(),
        )],
    );
    let second = senders(&other.join("store.db"));
    assert_eq!(second.len(), SENDERS);
    assert!(
        first.keys().all(|a| !second.contains_key(a)),
        "{first:?} {second:?}"
    );
}

#[test]
fn a_bad_key_stops_the_command_at_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pgp = dir.path().join("owner.asc");
    std::fs::write(&pgp, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let email = dir.path().join("failure.eml");
    std::fs::write(&email, failure_email(1)).unwrap_or_else(|e| panic!("{e}"));
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("DMARCFLOW_PRIVACY_RECIPIENTS", "age1notakey")],
            "not an age X25519 recipient",
        ),
        (
            &[("DMARCFLOW_PRIVACY_RECIPIENTS", "/nonexistent/owner.txt")],
            "nor a readable file",
        ),
        (
            &[(
                "DMARCFLOW_PRIVACY_RECIPIENTS",
                pgp.to_str().unwrap_or_default(),
            )],
            "OpenPGP",
        ),
        (
            &[("DMARCFLOW_PRIVACY_FAILURE_REPORTS", "encrypt")],
            "needs at least one entry",
        ),
    ];
    for (env, says) in cases {
        for command in [&["run", "--db", "store.db"][..], &["ingest"][..]] {
            let out = isolated(dir.path())
                .envs(env.iter().copied())
                .env("DMARCFLOW_KAFKA_BROKERS", "127.0.0.1:1")
                .args(command)
                .arg(&email)
                .output()
                .unwrap_or_else(|e| panic!("{e}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command:?} {env:?}: {stderr}");
            assert!(stderr.contains(says), "{command:?} {env:?}: {stderr}");
            assert!(!dir.path().join("store.db").exists(), "a store was made");
        }
    }
}

#[test]
fn privacy_apply_protects_what_was_stored_in_clear_in_both_stores() {
    let Some((dir, inputs)) = setup(&["age"]) else {
        return;
    };
    let apply = |env: &[(&str, String)]| -> String {
        let out = dmarcflow(dir.path(), env, &["privacy", "apply"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };

    // SQLite: stored in clear, redacted after, nothing left in its pages.
    let store = subdir(dir.path(), "sqlite");
    let db = store.join("store.db");
    let clear = [("DMARCFLOW_PRIVACY_FAILURE_REPORTS", "clear".to_owned())];
    run_into(dir.path(), &db, &inputs, &clear);
    assert!(!leaks_under(&store, &inputs).is_empty(), "stored in clear");
    let sqlite = [("DMARCFLOW_SQLITE_PATH", db.display().to_string())];
    let n = inputs.truth.len();
    assert_eq!(apply(&sqlite), format!("{n} failure reports redacted"));
    assert_eq!(leaks_under(&store, &inputs), Vec::<String>::new());
    assert_eq!(apply(&sqlite), "0 failure reports redacted");

    // ClickHouse: stored in clear by `run`, sealed after.
    let Some(url) =
        dmarcflow_testkit::services::service("DMARCFLOW_CLICKHOUSE_URL", "http://127.0.0.1:8123")
    else {
        return;
    };
    let database = format!("dmarcflow_privacy_apply_{}", std::process::id());
    let clickhouse = |more: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("DMARCFLOW_CLICKHOUSE_URL", url.clone()),
            ("DMARCFLOW_CLICKHOUSE_DATABASE", database.clone()),
        ];
        env.extend(more.iter().cloned());
        env
    };
    let migrated = dmarcflow(dir.path(), &clickhouse(&[]), &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let inputs_dir = inputs.dir.to_str().unwrap_or_default();
    let out = dmarcflow(dir.path(), &clickhouse(&clear), &["run", inputs_dir]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (keys, recipients) = age_keys(dir.path());
    let sealing = clickhouse(&[("DMARCFLOW_PRIVACY_RECIPIENTS", recipients)]);
    assert_eq!(apply(&sealing), format!("{n} failure reports sealed"));
    assert_eq!(apply(&sealing), "0 failure reports sealed");
    let dump = dmarcflow(
        dir.path(),
        &clickhouse(&[]),
        &["query", "SELECT * FROM failure_reports"],
    );
    assert!(dump.stdout.len() > 10_000, "the rows are there");
    assert_eq!(leaked(&dump.stdout, &inputs), None);
    // The stored columns open (what `run` stored of each report: no
    // description or unknown fields).
    let id = &inputs.generated[0];
    let shown = ruf_show(dir.path(), &clickhouse(&[]), id, &keys[0]);
    let opened: serde_json::Value = serde_json::from_slice(&shown).unwrap_or_default();
    for field in [
        "original_mail_from",
        "original_rcpt_to",
        "original_subject",
        "sample",
    ] {
        assert_eq!(opened[field], inputs.truth[id][field], "{field}");
    }
    dmarcflow(
        dir.path(),
        &clickhouse(&[]),
        &["query", &format!("DROP DATABASE {database}")],
    );
}

/// One mode through SMTP -> Kafka -> ClickHouse (and the same inputs
/// backfilled with the raw archive on): nothing personal on the topics,
/// in the broker's segments, in ClickHouse's files or in the logs; sealed
/// dead letters and archive copies open to the exact email.
fn through_kafka(mode: &str) {
    if !common::have("age") || !common::have("swaks") {
        return;
    }
    let Some(mut rig) = Rig::new(&format!("privacy_{mode}")) else {
        return;
    };
    let Some(inputs) = inputs(rig.path()) else {
        return;
    };
    let segments = std::env::var("DMARCFLOW_KAFKA_TEST_DATA").ok();
    assert!(
        segments.is_some() || std::env::var("CI").is_err(),
        "DMARCFLOW_KAFKA_TEST_DATA (.ci/kafka.sh) is missing under CI"
    );
    let (keys, recipients) = age_keys(rig.path());
    let port = dmarcflow_testkit::ports::free_port();
    for (name, value) in [
        ("DMARCFLOW_KAFKA_COMPRESSION", "none".to_owned()),
        ("DMARCFLOW_KAFKA_ARCHIVE_RAW", "true".to_owned()),
        ("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{port}")),
        ("RUST_LOG", "debug".to_owned()),
    ] {
        rig.env.push((name.to_owned(), value));
    }
    if mode == "encrypt" {
        rig.env
            .push(("DMARCFLOW_PRIVACY_RECIPIENTS".to_owned(), recipients));
    }
    rig.run(&["migrate"]);
    let _sink = Killed(rig.spawn(&["sink"]));
    let ingest = Killed(rig.spawn(&["ingest"]));
    common::wait_for(port);
    for file in &inputs.files {
        let (ok, log) = common::swaks(port, file, false);
        assert!(ok, "{}: {log}", file.display());
    }
    // The same inputs from files, with the raw archive.
    let backfill = rig.run(&[
        "ingest",
        "--state",
        "backfill.state",
        inputs.dir.to_str().unwrap_or_default(),
    ]);
    let _ = backfill;
    let expected = inputs.truth.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while rig.count("SELECT count() FROM failure_reports") < expected {
        assert!(Instant::now() < deadline, "not stored: {}", rig.logs());
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(ingest);

    // The topics, read back.
    let topic = |name: &str| {
        common::read_topic(
            &rig.brokers,
            &format!("{}.{name}", rig.prefix),
            &format!("{}-read-{name}", rig.prefix),
        )
    };
    use rdkafka::message::Message;
    let failure = topic("failure");
    assert!(failure.len() >= inputs.truth.len(), "failure topic");
    let dead = topic("dead-letter");
    let raw = topic("raw");
    assert!(
        dead.len() >= 4 && raw.len() >= inputs.files.len(),
        "dead letters and archive"
    );
    for message in failure.iter().chain(&dead).chain(&raw) {
        let payload = message.payload().unwrap_or_default();
        assert_eq!(leaked(payload, &inputs), None, "{}", message.topic());
    }
    let abuse = abuse_email(100);
    for message in dead.iter().chain(&raw) {
        let payload = message.payload().unwrap_or_default();
        let is_abuse = common::header(message, "dmarcflow-origin").contains("abuse-0")
            || String::from_utf8_lossy(message.key().unwrap_or_default()).contains("abuse-0");
        if mode == "encrypt" {
            assert!(payload.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"));
            if is_abuse {
                assert_eq!(
                    age_open(&keys[1], payload, rig.path()),
                    abuse,
                    "sealed whole"
                );
            }
        } else {
            assert!(
                String::from_utf8_lossy(payload).contains("withheld"),
                "{payload:?}"
            );
        }
    }

    // The broker's files for these topics: written uncompressed, so the
    // search means something (a report id is there to be found).
    if let Some(data) = segments {
        let ours: Vec<PathBuf> = std::fs::read_dir(&data)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&rig.prefix))
            })
            .collect();
        assert!(ours.len() >= 3, "topic directories under {data}");
        let id = inputs.generated[0].as_bytes();
        let mut found_id = false;
        for dir in &ours {
            assert_eq!(leaks_under(dir, &inputs), Vec::<String>::new());
            found_id |= walk(dir)
                .iter()
                .any(|f| std::fs::read(f).is_ok_and(|b| memchr::memmem::find(&b, id).is_some()));
        }
        assert!(found_id, "the segments hold the reports uncompressed");
    }

    // ClickHouse: the rows, and the files of every table of the database.
    let dump = rig.run(&["query", "SELECT * FROM failure_reports"]);
    assert!(dump.len() > 10_000, "the rows are there");
    assert_eq!(leaked(dump.as_bytes(), &inputs), None);
    let paths = rig.run(&[
        "query",
        &format!(
            "SELECT data_path FROM system.tables WHERE database = '{}'",
            rig.database
        ),
    ]);
    let mut searched = 0;
    for path in paths.lines().skip(1).filter(|p| !p.is_empty()) {
        searched += walk(Path::new(path)).len();
        assert_eq!(leaks_under(Path::new(path), &inputs), Vec::<String>::new());
    }
    assert!(searched > 20, "ClickHouse's files searched: {searched}");
    if mode == "encrypt" {
        let id = &inputs.generated[2];
        let sealed = rig.run(&[
            "query",
            &format!("SELECT replaceAll(sealed, '\\n', '|') FROM failure_reports WHERE report_id = '{id}' LIMIT 1"),
        ]);
        let blob = sealed.lines().nth(1).unwrap_or_default().replace('|', "\n");
        assert_opens_to_truth(
            &age_open(&keys[0], blob.as_bytes(), rig.path()),
            &inputs.truth[id],
        );
    }
    // Every log line (ingest and sink at debug).
    let logs = walk(rig.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| std::fs::read(p).unwrap_or_default())
        .collect::<Vec<_>>()
        .concat();
    assert!(logs.len() > 1000, "the services logged");
    assert_eq!(leaked(&logs, &inputs), None);
    let _ = rig.run(&["query", &format!("DROP DATABASE {}", rig.database)]);
}

#[test]
fn smtp_kafka_clickhouse_keep_no_personal_data_encrypted() {
    through_kafka("encrypt");
}

#[test]
fn smtp_kafka_clickhouse_keep_no_personal_data_redacted() {
    through_kafka("redact");
}

/// A gpg home with one key (Ed25519, with a Curve25519 encryption subkey),
/// no passphrase: its directory and its armoured public key file.
fn gpg_owner(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700));
    }
    let uid = format!("{name} <{name}@owner.example>");
    gpg(
        &home,
        &[
            "--quick-gen-key",
            &uid,
            "future-default",
            "default",
            "never",
        ],
    );
    let public = dir.join(format!("{name}.asc"));
    std::fs::write(&public, gpg(&home, &["--armor", "--export", &uid]).stdout)
        .unwrap_or_else(|e| panic!("{e}"));
    let secret = dir.join(format!("{name}.secret.asc"));
    std::fs::write(
        &secret,
        gpg(&home, &["--armor", "--export-secret-keys", &uid]).stdout,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (home, public)
}

#[test]
fn openpgp_keys_seal_what_gpg_opens() {
    let Some((dir, inputs)) = setup(&["gpg", "age"]) else {
        return;
    };
    let (home_1, key_1) = gpg_owner(dir.path(), "owner1");
    let (home_2, key_2) = gpg_owner(dir.path(), "owner2");
    let store = subdir(dir.path(), "pgp");
    let db = store.join("store.db");
    let recipients = format!("{},{}", key_1.display(), key_2.display());
    let log = run_into(
        dir.path(),
        &db,
        &inputs,
        &[("DMARCFLOW_PRIVACY_RECIPIENTS", recipients)],
    );
    assert_clean(&log, &store, &inputs);
    for id in inputs.generated.iter().take(3) {
        let row = rows(
            dir.path(),
            &db,
            &format!("SELECT personal, replace(sealed, char(10), '|') FROM failure_reports WHERE report_id = '{id}'"),
        );
        assert_eq!(row[0][0], "sealed");
        let blob = row[0][1].as_bytes();
        assert!(blob.starts_with(b"-----BEGIN PGP MESSAGE-----"));
        std::fs::write(dir.path().join("blob.asc"), blob).unwrap_or_else(|e| panic!("{e}"));
        for home in [&home_1, &home_2] {
            let blob = dir.path().join("blob.asc");
            let out = gpg(home, &["--decrypt", blob.to_str().unwrap_or_default()]);
            assert_opens_to_truth(&out.stdout, &inputs.truth[id]);
        }
    }
    // dmarcflow opens one with the exported secret key.
    let id = &inputs.generated[1];
    let sqlite = [("DMARCFLOW_SQLITE_PATH", db.display().to_string())];
    let shown = ruf_show(
        dir.path(),
        &sqlite,
        id,
        &dir.path().join("owner2.secret.asc"),
    );
    assert_opens_to_truth(&shown, &inputs.truth[id]);

    // age and OpenPGP keys together: one blob cannot be both.
    let (_, age_recipients) = age_keys(dir.path());
    let age_one = age_recipients.split(',').next().unwrap_or_default();
    let out = isolated(dir.path())
        .env(
            "DMARCFLOW_PRIVACY_RECIPIENTS",
            format!("{age_one},{}", key_1.display()),
        )
        .args(["run", "--db", "mixed.db"])
        .arg(&inputs.dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("age and OpenPGP keys mixed"), "{stderr}");
}

/// `dmarcflow run` as a service without Kafka, SMTP in, encrypt: the
/// dead-letter file (the raw bytes in base64, decoded here), the store,
/// the metrics and the log hold nothing personal; a sealed dead letter
/// opens to the exact email.
#[test]
fn run_service_dead_letter_file_and_metrics_hold_no_personal_data() {
    use base64::Engine;
    let Some((dir, inputs)) = setup(&["age", "swaks"]) else {
        return;
    };
    let (keys, recipients) = age_keys(dir.path());
    let service = subdir(dir.path(), "service");
    let (smtp, metrics) = (
        dmarcflow_testkit::ports::free_port(),
        dmarcflow_testkit::ports::free_port(),
    );
    let log = std::fs::File::create(service.join("service.log")).unwrap_or_else(|e| panic!("{e}"));
    let err = log.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let db = service.join("store.db");
    let dead = service.join("dead-letters.jsonl");
    let child = isolated(dir.path())
        .env("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{smtp}"))
        .env("DMARCFLOW_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
        .env("DMARCFLOW_PRIVACY_RECIPIENTS", &recipients)
        .env("DMARCFLOW_BATCH_MAX_AGE_MS", "100")
        .env("RUST_LOG", "trace")
        .args(["run", "--db"])
        .arg(&db)
        .arg("--rejects")
        .arg(&dead)
        .stdout(log)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let child = Killed(child);
    common::wait_for(smtp);
    for file in &inputs.files {
        let (ok, log) = common::swaks(smtp, file, false);
        assert!(ok, "{}: {log}", file.display());
    }
    let stored = rows(dir.path(), &db, "SELECT count(*) FROM failure_reports");
    assert_eq!(
        stored[0][0],
        inputs.truth.len().to_string(),
        "stored once acknowledged"
    );
    let mut scrape =
        std::net::TcpStream::connect(("127.0.0.1", metrics)).unwrap_or_else(|e| panic!("{e}"));
    use std::io::{Read, Write};
    scrape
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut text = Vec::new();
    let _ = scrape.read_to_end(&mut text);
    assert!(
        String::from_utf8_lossy(&text).contains("dmarcflow_dead_letters_total"),
        "metrics served"
    );
    assert_eq!(leaked(&text, &inputs), None, "in the metrics");
    let _ = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status();
    drop(child);

    assert_eq!(leaks_under(&service, &inputs), Vec::<String>::new());
    let lines = std::fs::read_to_string(&dead).unwrap_or_else(|e| panic!("{e}"));
    let mut opened = Vec::new();
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(v["raw_base64"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(leaked(&raw, &inputs), None, "a dead letter");
        assert!(
            raw.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
            "sealed whole"
        );
        opened.push(age_open(&keys[0], &raw, dir.path()));
    }
    assert!(
        lines.lines().count() >= 2,
        "the abuse reports are dead letters"
    );
    // Whole: the email as it came over SMTP (swaks ends DATA with its own
    // line break).
    for n in [100, 101] {
        let email = abuse_email(n);
        let heads: Vec<String> = opened
            .iter()
            .map(|o| String::from_utf8_lossy(&o[..o.len().min(200)]).into_owned())
            .collect();
        assert!(
            opened
                .iter()
                .any(|o| o.trim_ascii_end() == email.trim_ascii_end()),
            "abuse email {n} opens whole: {heads:?}"
        );
    }
}
