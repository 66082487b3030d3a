//! The HTML and PDF reports, looked at as a person would: the example
//! reports stored and their alerts evaluated, then `report --format pdf`
//! rendered by poppler (`pdftoppm`: pages as pictures; `pdftotext`: the
//! words and numbers on them) and `report --format html` by headless
//! Chromium (the page as rendered, and a screenshot). Needs chromium and
//! poppler-utils; skips without them, except under CI.

use std::path::Path;
use std::process::Command;

fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").is_err(),
        "{name} is missing under CI (.ci/run installs chromium and poppler-utils)"
    );
    found
}

fn dmarcflow(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dmarcflow"))
        .args(args)
        .current_dir(dir)
        .env_remove("DMARCFLOW_CONFIG")
        .env_remove("DMARCFLOW_CLICKHOUSE_URL")
        .env_remove("DMARCFLOW_KAFKA_BROKERS")
        .env_remove("DMARCFLOW_ALERTS_WEBHOOKS")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// The stored examples, their alerts, and both reports in `dir`.
fn reports(dir: &Path) {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    dmarcflow(dir, &["run", &examples.display().to_string()]);
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
}

/// What every rendering must show: the totals of the examples (104,445
/// messages, 98,056 passing, 93.9%), the top failing source, the TLS
/// failure types and an alert of the period.
fn assert_contents(text: &str, what: &str) {
    for expected in [
        "DMARC report for example.com",
        "104,445",
        "98,056",
        "6,389",
        "93.9%",
        "198.19.242.56",
        "3473",
        "certificate-expired",
        "starttls-not-supported",
        "new TLS failure for example.com: certificate-expired (9 sessions)",
    ] {
        assert!(
            text.contains(expected),
            "{what} lacks {expected:?}:\n{text}"
        );
    }
}

#[test]
fn the_pdf_report_as_poppler_renders_it() {
    if !tool("pdftoppm") || !tool("pdftotext") {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    reports(dir.path());
    let pdf = dir.path().join("report.pdf").display().to_string();
    let text = run("pdftotext", &["-layout", &pdf, "-"]);
    assert_contents(&text, "the PDF");
    // The pages as pictures: every page a PNG of an A4 page's proportions.
    let prefix = dir.path().join("page").display().to_string();
    run("pdftoppm", &["-png", "-r", "50", &pdf, &prefix]);
    let pages: Vec<_> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("page"))
        .collect();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for page in pages {
        let png = std::fs::read(page.path()).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5000,
            "{:?}",
            page.path()
        );
        // Width and height from the IHDR chunk: 595 x 842 points at 50 dpi.
        let (w, h) = (
            u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
            u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
        );
        assert_eq!((w, h), (414, 585), "{:?}", page.path());
    }
}

#[test]
fn the_html_report_as_chromium_renders_it() {
    if !tool("chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    reports(dir.path());
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
    assert_contents(&text, "the HTML");
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
