//! Load against the real listener: `dmarcflow run` (the embedded store, the
//! acknowledged in-process bus) with SMTP over STARTTLS and a memory budget,
//! driven first by one sequential client, then by 50 concurrent ones
//! sending a mix of real corpus report emails, generated ones, large
//! reports and decompression bombs. Every legitimate report is stored
//! exactly once, every bomb is dead-lettered (`limit_exceeded`, or `not_a_report` when a
//! streamed layer shows at once that it holds no XML), every
//! message is answered (a 451 is retried, as a relay does), no connection
//! hangs, and the process's peak RSS stays below the budget plus a stated
//! overhead. It prints the acknowledgement latencies, messages/s and the
//! bare store write rate of the same reports (`benches/load.sh` runs it on
//! a release build for the figures in docs/hostile-input.md).

#[path = "load/client.rs"]
mod client;
mod common;
#[path = "../parse/tests/hostile/cases.rs"]
mod hostile;

use std::collections::VecDeque;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client::Client;
use common::ReportIds;
use dmarcflow_testkit::{Generator, Profile};

/// The budget the service runs with.
const BUDGET: u64 = 96 << 20;
/// What the process holds beside the messages in flight: code, the
/// runtime and its threads, SQLite's cache, TLS state per connection and
/// the store's batch. Measured: 27 MiB after the sequential client, a peak
/// of 94-96 MiB in all; docs/hostile-input.md gives the figures.
const OVERHEAD: u64 = 64 << 20;
const CLIENTS: usize = 50;
/// The whole concurrent phase must end within this.
const DEADLINE: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct Message {
    name: String,
    data: Arc<Vec<u8>>,
    bomb: bool,
    /// For a bomb: the reasons it may be refused with.
    expect: &'static [&'static str],
}

/// Latencies and counts of one phase.
#[derive(Default)]
struct Phase {
    latencies: Vec<Duration>,
    answered: usize,
    busy: usize,
    wall: Duration,
}

impl Phase {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(i).copied().unwrap_or_default()
    }

    fn line(&self, name: &str) -> String {
        format!(
            "{name}: {} messages in {:.2} s ({:.0} messages/s), ack latency p50 {:.1} ms, p99 {:.1} ms, {} answered 451 and retried",
            self.answered,
            self.wall.as_secs_f64(),
            self.answered as f64 / self.wall.as_secs_f64().max(1e-9),
            self.percentile(0.5).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.busy
        )
    }
}

/// Every report email of the corpus (its inventory's `eml` files).
fn corpus_emails(corpus: &Path) -> Vec<Message> {
    let inventory = std::fs::read_to_string(corpus.join("INVENTORY.tsv")).unwrap_or_default();
    inventory
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let (path, container) = (fields.get(3)?, fields.get(5)?);
            (*container == "eml").then(|| {
                let data = std::fs::read(corpus.join(path)).unwrap_or_else(|e| panic!("{e}"));
                Message {
                    name: format!("corpus-{}", path.replace('/', "_")),
                    data: Arc::new(data),
                    bomb: false,
                    expect: &[],
                }
            })
        })
        .collect()
}

/// Large reports: `n` gzip-attached reports of 30,000 records (about 21 MB
/// of XML each, read in parts).
fn large(n: u64) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let mut xml = Vec::new();
            dmarcflow_testkit::write_report(&mut xml, Profile::Microsoft, 30_000, 1000 + i)
                .unwrap_or_else(|e| panic!("{e}"));
            let data = dmarcflow_testkit::email(Profile::Microsoft, &xml, 9_000_000 + i);
            Message {
                name: format!("large-{i}"),
                data: Arc::new(data),
                bomb: false,
                expect: &[],
            }
        })
        .collect()
}

/// Bombs of several formats, as email attachments, each with a Message-ID
/// to find its dead letter by.
fn bombs() -> Vec<Message> {
    let wrap = |name: &str, content_type: &str, file: &str| {
        let case = hostile::build(name).unwrap_or_else(|| panic!("no case {name}"));
        let expect = case.expect;
        let email = if name.starts_with("email_") {
            case.bytes
        } else {
            hostile::email_with(content_type, file, &case.bytes)
        };
        let mut data = format!("Message-ID: <{name}@bombs.load.example>\r\n").into_bytes();
        data.extend_from_slice(&email);
        Message {
            name: name.to_owned(),
            data: Arc::new(data),
            bomb: true,
            expect,
        }
    };
    vec![
        wrap("email_gzip_bomb", "", ""),
        wrap("zip_gib_of_zeros", "application/zip", "report.xml.zip"),
        wrap("double_gzip_bomb", "application/gzip", "report.xml.gz"),
        wrap("gzip_in_zip_bomb", "application/zip", "report.zip"),
        wrap(
            "tlsrpt_json_gz_bomb",
            "application/tlsrpt+gzip",
            "tls.json.gz",
        ),
        wrap("zip_overlapping_members", "application/zip", "reports.zip"),
    ]
}

fn dmarcflow(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dmarcflow"));
    c.current_dir(dir)
        .env("DMARCFLOW_SQLITE_PATH", dir.join("store.db"))
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .env_remove("DMARCFLOW_HTTP_LISTEN")
        .env_remove("DMARCFLOW_IMAP_HOST")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_CONFIG");
    c
}

fn output(mut c: Command) -> String {
    let out = c.output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn count(dir: &Path, sql: &str) -> u64 {
    let mut c = dmarcflow(dir);
    c.args(["query", sql]);
    let text = output(c);
    text.lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("{sql}: {text}"))
}

/// The service's peak RSS so far (the kernel's high-water mark).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb << 10)
}

fn start(dir: &Path, port: u16, env: &[(&str, &str)]) -> Child {
    let mut c = dmarcflow(dir);
    c.envs(env.iter().copied());
    c.arg("run")
        .env("DMARCFLOW_SMTP_LISTEN", format!("127.0.0.1:{port}"))
        .env("DMARCFLOW_SMTP_HOSTNAME", "localhost")
        .env("DMARCFLOW_SMTP_TLS_CERT", dir.join("cert.pem"))
        .env("DMARCFLOW_SMTP_TLS_KEY", dir.join("key.pem"))
        .env("DMARCFLOW_SMTP_REQUIRE_TLS", "true")
        .env("DMARCFLOW_MEMORY_BUDGET", BUDGET.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = c.spawn().unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Sends every message of `queue` over `clients` connections; a 451 puts
/// the message back. Fails on any other answer, error or hang.
async fn drive(
    port: u16,
    tls: &tokio_rustls::TlsConnector,
    queue: Vec<Message>,
    clients: usize,
) -> Phase {
    let total = queue.len();
    let queue = Arc::new(Mutex::new(VecDeque::from(queue)));
    let left = Arc::new(AtomicUsize::new(total));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (queue, left, tls) = (queue.clone(), left.clone(), tls.clone());
        tasks.spawn(async move {
            let mut phase = Phase::default();
            let mut client = Client::connect(port, &tls)
                .await
                .unwrap_or_else(|e| panic!("connect: {e}"));
            while left.load(Ordering::SeqCst) > 0 {
                let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                let Some(message) = next else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                let answer = client
                    .send(&message.data)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", message.name));
                match answer.code {
                    250 => {
                        if message.bomb {
                            assert!(
                                answer.text.contains(" 0 reports queued"),
                                "{}: {}",
                                message.name,
                                answer.text
                            );
                        }
                        phase.latencies.extend(answer.latency);
                        phase.answered += 1;
                        left.fetch_sub(1, Ordering::SeqCst);
                    }
                    451 => {
                        phase.busy += 1;
                        if let Ok(mut q) = queue.lock() {
                            q.push_back(message);
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    _ => panic!("{}: {}", message.name, answer.text),
                }
            }
            client.quit().await.unwrap_or_else(|e| panic!("quit: {e}"));
            phase
        });
    }
    let mut all = Phase::default();
    let joined = tokio::time::timeout(DEADLINE, async {
        while let Some(done) = tasks.join_next().await {
            let phase = done.unwrap_or_else(|e| panic!("a client failed: {e}"));
            all.latencies.extend(phase.latencies);
            all.answered += phase.answered;
            all.busy += phase.busy;
        }
    })
    .await;
    assert!(
        joined.is_ok(),
        "the clients did not finish within {DEADLINE:?}"
    );
    all.wall = started.elapsed();
    assert_eq!(all.answered, total);
    all
}

/// The bare store: the same reports written to a fresh SQLite store, all in
/// one batch, then one report per write (what one acknowledgement costs).
fn bare_store(dir: &Path, messages: &[Message]) -> String {
    let source = dmarcflow_ingest::files::FilesSource::default();
    let mut reports = Vec::new();
    for m in messages {
        let _ = source.read_message(&m.data, &m.name, 0, |found| {
            if let dmarcflow_ingest::files::Found::Report(r) = found {
                reports.push(r);
            }
            Ok::<(), ()>(())
        });
    }
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async {
        let config = |name: &str| dmarcflow_store::StoreConfig::Sqlite {
            path: dir.join(name),
        };
        let mut batched = dmarcflow_store::Store::open(&config("bare-batch.db"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        batched
            .write(&reports)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let batch_rate = reports.len() as f64 / started.elapsed().as_secs_f64();
        let mut single = dmarcflow_store::Store::open(&config("bare-single.db"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut writes = Vec::new();
        let started = Instant::now();
        for r in &reports {
            let t = Instant::now();
            single
                .write(std::slice::from_ref(r))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            writes.push(t.elapsed());
        }
        let single_rate = reports.len() as f64 / started.elapsed().as_secs_f64();
        writes.sort();
        let p50 = writes.get(writes.len() / 2).copied().unwrap_or_default();
        format!(
            "bare store (SQLite, the same {} reports): {batch_rate:.0} reports/s in one batch, {single_rate:.0} reports/s one per write (p50 {:.1} ms a write)",
            reports.len(),
            p50.as_secs_f64() * 1e3
        )
    })
}

#[test]
fn fifty_clients_over_starttls_within_the_memory_budget() {
    let Some(corpus) = dmarcflow_testkit::corpus::root() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = dir.path();
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("cert.pem"), key.cert.pem()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("key.pem"), key.key_pair.serialize_pem())
        .unwrap_or_else(|e| panic!("{e}"));
    let tls = client::tls(key.cert.der());

    let real = corpus_emails(&corpus);
    assert!(real.len() >= 20, "{} corpus emails", real.len());
    let mut generator = Generator::new(20261202);
    let generated: Vec<Message> = generator
        .emails(800)
        .into_iter()
        .enumerate()
        .map(|(i, data)| Message {
            name: format!("generated-{i}"),
            data: Arc::new(data),
            bomb: false,
            expect: &[],
        })
        .collect();
    let large = large(3);
    let bombs = bombs();

    // The truth: what `dmarcflow parse` finds in the legitimate messages.
    let truth = dir.join("truth");
    std::fs::create_dir_all(&truth).unwrap_or_else(|e| panic!("{e}"));
    for m in real.iter().chain(&generated).chain(&large) {
        std::fs::write(truth.join(format!("{}.eml", m.name)), m.data.as_slice())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut parse = dmarcflow(dir);
    // (It exits non-zero: the corpus holds emails that are not reports.)
    parse.args([
        "parse",
        "--no-progress",
        "--rejects",
        "rejects.jsonl",
        "truth",
    ]);
    let parsed = parse.output().unwrap_or_else(|e| panic!("{e}"));
    let mut ids = ReportIds::default();
    ids.add(&String::from_utf8_lossy(&parsed.stdout));
    assert!(ids.aggregate.len() > 800 && !ids.tlsrpt.is_empty() && !ids.failure.is_empty());

    let port = common::free_port();
    let mut service = start(dir, port, &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));

    // One client, one message after another: corpus and small generated.
    let sequential: Vec<Message> = real.iter().chain(&generated[..200]).cloned().collect();
    let one = runtime.block_on(drive(port, &tls, sequential, 1));
    let peak_sequential = peak_rss(service.id());

    // Fifty at once, small reports only: what the listener and the store
    // sustain.
    let small = runtime.block_on(drive(port, &tls, generated[200..600].to_vec(), CLIENTS));

    // Fifty at once, the mix: the corpus again (stored once all the same),
    // small reports, large ones and bombs.
    let mut mix: Vec<Message> = real.iter().chain(&generated[600..]).cloned().collect();
    for (i, m) in large.iter().chain(&bombs).enumerate() {
        mix.insert((i * 53) % mix.len(), m.clone());
    }
    let fifty = runtime.block_on(drive(port, &tls, mix, CLIENTS));

    let peak = peak_rss(service.id());
    let _ = Command::new("kill").arg(service.id().to_string()).status();
    let status = service.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "a clean exit on SIGTERM: {status}");

    // Every legitimate report stored exactly once.
    for (table, kind) in [
        ("aggregate_reports", &ids.aggregate),
        ("failure_reports", &ids.failure),
        ("tlsrpt_reports", &ids.tlsrpt),
    ] {
        assert_eq!(
            count(dir, &format!("SELECT count(*) FROM {table}")),
            kind.len() as u64,
            "{table}"
        );
    }
    assert_eq!(
        count(
            dir,
            "SELECT count(DISTINCT report_id) FROM aggregate_reports"
        ),
        ids.aggregate.len() as u64
    );
    let records = count(dir, "SELECT count(*) FROM aggregate_records");
    assert!(records >= 90_000, "the large reports' records: {records}");

    // Every bomb dead-lettered, for one of the reasons the battery allows it.
    let letters = std::fs::read_to_string(dir.join("dmarcflow-dead-letters.jsonl"))
        .unwrap_or_else(|e| panic!("dead letters: {e}"));
    let letters: Vec<serde_json::Value> = letters
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for bomb in &bombs {
        let marker = format!("<{}@bombs.load.example>", bomb.name);
        let mine: Vec<&serde_json::Value> = letters
            .iter()
            .filter(|l| {
                let raw = l["raw_base64"].as_str().unwrap_or_default();
                decoded_contains(raw, marker.as_bytes())
            })
            .collect();
        assert!(!mine.is_empty(), "{}: not dead-lettered", bomb.name);
        for l in mine {
            let reason = l["reason"].as_str().unwrap_or_default();
            // Streamed (a message's in-memory allowance is smaller than a
            // file's), zeros are refused as soon as they show they are no XML.
            assert!(
                bomb.expect.contains(&reason) || reason == "not_a_report",
                "{}: {reason} ({})",
                bomb.name,
                l["error"]
            );
        }
    }

    // The baseline of the same run: without the group commit (the linger
    // as long as the batch's age limit, 1 s), a few sequential messages.
    let baseline_dir = dir.join("baseline");
    std::fs::create_dir_all(&baseline_dir).unwrap_or_else(|e| panic!("{e}"));
    for f in ["cert.pem", "key.pem"] {
        std::fs::copy(dir.join(f), baseline_dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
    }
    let baseline_port = common::free_port();
    let mut baseline = start(
        &baseline_dir,
        baseline_port,
        &[("DMARCFLOW_BATCH_LINGER_MS", "1000")],
    );
    let without = runtime.block_on(drive(baseline_port, &tls, generated[..10].to_vec(), 1));
    let _ = Command::new("kill").arg(baseline.id().to_string()).status();
    let _ = baseline.wait();

    let bare = bare_store(
        dir,
        &real.iter().chain(&generated).cloned().collect::<Vec<_>>(),
    );
    eprintln!(
        "{}",
        without.line("1 sequential client, no group commit (baseline)")
    );
    eprintln!("{}", one.line("1 sequential client"));
    eprintln!("{}", small.line("50 concurrent clients, small reports"));
    eprintln!(
        "{}",
        fifty.line("50 concurrent clients, the mix with large reports and bombs")
    );
    eprintln!(
        "peak RSS {:.0} MiB after the sequential client, {:.0} MiB in all (budget {} MiB + overhead {} MiB)",
        peak_sequential as f64 / f64::from(1 << 20),
        peak as f64 / f64::from(1 << 20),
        BUDGET >> 20,
        OVERHEAD >> 20
    );
    eprintln!("{bare}");
    assert!(peak > 0, "no peak RSS read");
    assert!(
        peak < BUDGET + OVERHEAD,
        "peak RSS {peak} over the budget plus overhead"
    );
}

/// Whether the base64 text decodes to bytes containing `needle` (only its
/// start is decoded: the marker is the first header).
fn decoded_contains(base64: &str, needle: &[u8]) -> bool {
    use base64::Engine;
    let head: String = base64.chars().take(4 * 64).collect();
    base64::engine::general_purpose::STANDARD
        .decode(head.as_bytes())
        .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}
