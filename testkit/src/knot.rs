//! Debian's Knot (`knotd`), an authoritative DNS server a test starts on a
//! loopback port with zones it writes: the real DNS peer of reverse DNS,
//! DKIM key lookups and (later) domain posture checks.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ports::free_port;
use crate::services::program;

/// The SOA and NS lines every zone opens with (a name server outside the
/// zones, so none needs glue).
const SOA: &str =
    "@ 300 SOA ns.example. hostmaster.example. 1 3600 600 86400 60\n@ 300 NS ns.example.\n";

/// One zone: its origin (`sender.example`) and its records, in zone-file
/// syntax relative to the origin (`$ORIGIN` and the SOA are added).
#[derive(Debug, Clone)]
pub struct Zone {
    pub origin: String,
    pub records: String,
}

impl Zone {
    pub fn new(origin: &str, records: impl Into<String>) -> Self {
        Self {
            origin: origin.trim_end_matches('.').to_owned(),
            records: records.into(),
        }
    }
}

/// A knotd serving `zones` on 127.0.0.1 (UDP and TCP), killed when dropped.
pub struct Knot {
    knotd: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl Knot {
    /// Started and answering; None (skip) without knotd outside CI.
    pub fn start(zones: &[Zone]) -> Option<Self> {
        let knotd = program(&["/usr/sbin/knotd", "/usr/bin/knotd"], "knot")?;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        write_config(dir.path(), port, zones);
        let child = Some(spawn(&knotd, dir.path(), port));
        Some(Self {
            knotd,
            dir,
            port,
            child,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where to send queries.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Killed: queries go unanswered (a dead server).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `zone`'s records replaced (a zone of the same origin served from
    /// the start), the server restarted to serve them: what a domain owner
    /// editing a record does, as the resolver sees it.
    pub fn replace_zone(&mut self, zone: &Zone) {
        let origin = &zone.origin;
        let text = format!("$ORIGIN {origin}.\n{SOA}{}", zone.records);
        let file = self.dir.path().join(format!("{origin}.zone"));
        std::fs::write(&file, text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        self.restart();
    }

    /// Stopped and started again on the same port with the same zones.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some(spawn(&self.knotd, self.dir.path(), self.port));
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_config(dir: &Path, port: u16, zones: &[Zone]) {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    };
    std::fs::create_dir_all(dir.join("db")).unwrap_or_else(|e| panic!("{e}"));
    let d = dir.display();
    let mut config = format!(
        "server:\n    listen: 127.0.0.1@{port}\n    rundir: {d}\n\
         database:\n    storage: {d}/db\n\
         control:\n    listen: {d}/knot.sock\n\
         log:\n  - target: stderr\n    any: warning\n\
         zone:\n"
    );
    for zone in zones {
        let origin = &zone.origin;
        let file = format!("{origin}.zone");
        write(&file, &format!("$ORIGIN {origin}.\n{SOA}{}", zone.records));
        config.push_str(&format!("  - domain: {origin}\n    file: {d}/{file}\n"));
    }
    write("knot.conf", &config);
}

fn spawn(knotd: &Path, dir: &Path, port: u16) -> Child {
    let child = Command::new(knotd)
        .args(["-c", &dir.join("knot.conf").display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("knotd: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "knotd does not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}
