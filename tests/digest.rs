//! The HTML and PDF reports, looked at as a person would: the example
//! reports stored and their alerts evaluated, then `report --format pdf`
//! rendered by poppler (`pdftoppm`: pages as pictures; `pdftotext`: the
//! words and numbers on them) and `report --format html` by headless
//! Chromium (the page as rendered, and a screenshot). Needs chromium and
//! poppler-utils; skips without them, except under CI.

mod common;

use std::path::Path;
use std::process::Command;

use dmarcflow_testkit::knot::{Knot, Zone};

/// Runs the binary on the embedded store; its stdout, once it succeeded.
fn dmarcflow(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = common::embedded(dir, args);
    assert!(ok, "{args:?}: {err}");
    out
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// example.com as Knot serves it for the posture check: DMARC as the
/// examples' reports published it, an SPF record ending in `?all`.
fn example_zone() -> Zone {
    Zone::new(
        "example.com",
        "@ TXT \"v=spf1 ip4:192.0.2.0/24 ?all\"\n\
         _dmarc TXT \"v=DMARC1; p=reject; sp=none; rua=mailto:dmarc@example.com\"\n",
    )
}

/// The stored examples, their alerts, a posture check of example.com
/// (against Knot), and both reports in `dir`.
fn reports(dir: &Path) -> bool {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    dmarcflow(dir, &["run", &examples.display().to_string()]);
    // Without knotd (outside CI): no posture section to look for.
    let knot = Knot::start(&[example_zone()]);
    if let Some(knot) = &knot {
        std::fs::write(
            dir.join("posture.toml"),
            format!("[enrich]\nnameservers = [\"{}\"]\n", knot.address()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // Exit status 2 (sp=none below p=reject is no critical finding; a
        // missing DKIM key the reports show in use is a warning): 0.
        let (ok, _, stderr) = common::embedded(
            dir,
            &[
                "--config",
                "posture.toml",
                "check",
                "example.com",
                "--save",
                "--skip-starttls",
                "--timeout-ms",
                "2000",
            ],
        );
        assert!(ok, "{stderr}");
    }
    std::fs::write(dir.join("alerts.toml"), "[alerts]\nwindow_days = 3\n")
        .unwrap_or_else(|e| panic!("{e}"));
    dmarcflow(
        dir,
        &["--config", "alerts.toml", "alerts", "--day", "2023-11-21"],
    );
    for format in ["html", "pdf"] {
        dmarcflow(
            dir,
            &[
                "report",
                "--domain",
                "example.com",
                "--from",
                "2023-11-01",
                "--to",
                "2023-12-31",
                "--format",
                format,
                "--out",
                &format!("report.{format}"),
            ],
        );
    }
    knot.is_some()
}

/// What every rendering must show: the path to enforcement first (the
/// verdict and the largest blocker with its fix), the totals of the
/// examples (75,937 messages, 63,460 passing, 83.6%), the top failing
/// source, the TLS failure types and an alert of the period.
fn assert_contents(text: &str, what: &str, posture: bool) {
    let posture: &[&str] = if posture {
        &["Domain posture", "spf.all_neutral"]
    } else {
        &[]
    };
    for expected in [
        "DMARC report for example.com",
        "Enforcement: not ready for the next step (published: p=reject; sp=none; pct=100)",
        "Next step: sp=reject",
        "Mailchimp sends 3,958 messages as example.com signed d=mcsv.net that fail DMARC",
        "75,937",
        "63,460",
        "12,477",
        "83.6%",
        "198.19.39.142",
        "4252",
        "certificate-expired",
        "starttls-not-supported",
        "mx1.example.com",
        "198.51.100.25",
        "MTA-STS: enforced (no TLS reports since 2023-12-18)",
        "new TLS failure for example.com: certificate-expired (9 sessions)",
    ]
    .iter()
    .chain(posture)
    {
        assert!(
            text.contains(expected),
            "{what} lacks {expected:?}:\n{text}"
        );
    }
}

#[test]
fn the_pdf_report_as_poppler_renders_it() {
    // .ci/run installs chromium and poppler-utils.
    if !common::have("pdftoppm") || !common::have("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let posture = reports(dir.path());
    let pdf = dir.path().join("report.pdf").display().to_string();
    let text = run("pdftotext", &["-layout", &pdf, "-"]);
    assert_contents(&text, "the PDF", posture);
    // The pages as pictures: every page a PNG of an A4 page's proportions,
    // none blank (text on each; the first one full: over 5 kB of picture).
    let prefix = dir.path().join("page").display().to_string();
    run("pdftoppm", &["-png", "-r", "50", &pdf, &prefix]);
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("page"))
        .map(|e| e.path())
        .collect();
    pages.sort();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for (n, page) in pages.iter().enumerate() {
        let png = std::fs::read(page).unwrap_or_default();
        let number = (n + 1).to_string();
        let words = run("pdftotext", &["-f", &number, "-l", &number, &pdf, "-"]);
        assert!(
            png.starts_with(b"\x89PNG") && (n > 0 || png.len() > 5000) && !words.trim().is_empty(),
            "{page:?}"
        );
        // Width and height from the IHDR chunk: 595 x 842 points at 50 dpi.
        let (w, h) = (
            u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
            u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
        );
        assert_eq!((w, h), (414, 585), "{page:?}");
    }
}

#[test]
fn the_html_report_as_chromium_renders_it() {
    if !common::have("chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let posture = reports(dir.path());
    let html = dir.path().join("report.html");
    let raw = std::fs::read_to_string(&html).unwrap_or_default();
    // Self-contained: no script, no stylesheet or image to fetch.
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!raw.contains(outside), "the HTML refers outside: {outside}");
    }
    let url = format!("file://{}", html.display());
    let chromium = |extra: &[&str]| {
        let mut args = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ];
        args.extend_from_slice(extra);
        args.push(&url);
        run("chromium", &args)
    };
    // The page as rendered (the DOM after layout), its text.
    let dom = chromium(&["--dump-dom"]);
    let text = dom
        .split('<')
        .filter_map(|part| part.split_once('>').map(|(_, t)| t))
        .collect::<Vec<_>>()
        .join(" ");
    assert_contents(&text, "the HTML", posture);
    assert!(
        dom.contains("<svg") && dom.contains("<polyline"),
        "the chart"
    );
    let shot = dir.path().join("report.png").display().to_string();
    chromium(&["--window-size=1000,1400", &format!("--screenshot={shot}")]);
    let png = std::fs::read(&shot).unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot {} bytes",
        png.len()
    );
}

/// `[reports]` mailed: `dmarcflow reports --day 2023-12-01` sends the
/// monthly report of November 2023 as a PDF attachment through the SMTP
/// relay (Exim, .ci/exim.sh) into the Dovecot mailbox `alerts`, read back
/// over IMAP; a second run sends nothing. Skips without the relay, except
/// under CI.
#[test]
fn scheduled_reports_are_mailed_once() {
    let env = |k: &str| std::env::var(k).ok();
    let (Some(relay), Some(host), Some(port), Some(mailbox)) = (
        env("DMARCFLOW_ALERTS_TEST_RELAY"),
        env("DMARCFLOW_IMAP_TEST_HOST"),
        env("DMARCFLOW_IMAP_TEST_PORT"),
        env("DMARCFLOW_ALERTS_TEST_MAILBOX"),
    ) else {
        assert!(env("CI").is_none(), "no SMTP relay or mailbox under CI");
        return;
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    dmarcflow(dir.path(), &["run", &examples.display().to_string()]);
    // A recipient unique to this run: the mailbox keeps older messages.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let to = format!("team-{stamp}@dmarcflow.test");
    std::fs::write(
        dir.path().join("reports.toml"),
        format!(
            "[alerts.email]\nrelay = \"{relay}\"\nfrom = \"dmarcflow@dmarcflow.test\"\nto = [\"alerts@dmarcflow.test\"]\n\n\
             [reports]\nformat = \"pdf\"\n[[reports.schedule]]\ndomain = \"example.com\"\nevery = \"monthly\"\nto = [\"{to}\"]\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = dmarcflow(
        dir.path(),
        &["--config", "reports.toml", "reports", "--day", "2023-12-01"],
    );
    let subject = "[dmarcflow] monthly DMARC report for example.com (2023-11-01 to 2023-11-30)";
    assert_eq!(out.trim(), format!("sent\t{subject}"));
    let again = dmarcflow(
        dir.path(),
        &["--config", "reports.toml", "reports", "--day", "2023-12-01"],
    );
    assert!(again.is_empty(), "{again}");
    // Not due on another day of the month.
    let other = dmarcflow(
        dir.path(),
        &["--config", "reports.toml", "reports", "--day", "2023-12-02"],
    );
    assert!(other.is_empty(), "{other}");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // Headers unfolded (a long subject is folded over lines).
        let mail = imap_fetch_all(&host, &port, &mailbox)
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        if let Some(at) = mail.find(&format!("To: {to}")) {
            let message = &mail[at.saturating_sub(2000)..(at + 200_000).min(mail.len())];
            assert!(message.contains(subject), "{message}");
            assert!(
                message.contains("Content-Type: application/pdf"),
                "{message}"
            );
            assert!(
                message.contains("dmarc-example.com-2023-11-01-2023-11-30.pdf"),
                "{message}"
            );
            // November: 20,899 messages, 64.5% passing (the body, quoted-
            // printable), and the attachment a PDF ("%PDF-" in base64).
            assert!(message.contains("20899 messages,"), "{message}");
            assert!(message.contains("64.5% passing DMARC"), "{message}");
            assert!(message.contains("\r\n\r\nJVBERi0"), "{message}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not delivered to {to}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// Every message of the mailbox's INBOX, as IMAP sends them.
fn imap_fetch_all(host: &str, port: &str, user: &str) -> String {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(format!("{host}:{port}")).unwrap_or_else(|e| panic!("{e}"));
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let script = format!(
        "a1 LOGIN {user} {user}\r\na2 SELECT INBOX\r\na3 FETCH 1:* (BODY.PEEK[])\r\na4 LOGOUT\r\n"
    );
    stream
        .write_all(script.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
