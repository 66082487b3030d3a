//! Debian's Unbound, a real recursive resolver a test starts on a loopback
//! address's port 53 (where stub resolvers look: c-ares, glibc), sending
//! the queries of each test zone to the authoritative server that serves it
//! (Knot, or dmarcflow's own). Killed when dropped.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};

use crate::services::program;

pub struct Unbound {
    dir: tempfile::TempDir,
    address: Ipv4Addr,
    zones: Vec<(String, SocketAddr)>,
    unbound: std::path::PathBuf,
    child: Option<Child>,
}

impl Unbound {
    /// Listening on `address`:53, each zone stubbed to its server. None
    /// (skip) without unbound outside CI.
    pub fn start(address: Ipv4Addr, zones: &[(&str, SocketAddr)]) -> Option<Self> {
        let unbound = program(&["/usr/sbin/unbound"], "unbound")?;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut this = Self {
            dir,
            address,
            zones: zones.iter().map(|(z, a)| ((*z).to_owned(), *a)).collect(),
            unbound,
            child: None,
        };
        this.write_config();
        this.spawn();
        Some(this)
    }

    /// What a resolv.conf names.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// A resolv.conf naming this resolver, for a process that reads one.
    pub fn resolv_conf(&self) -> std::path::PathBuf {
        let path = self.dir.path().join("resolv.conf");
        std::fs::write(&path, format!("nameserver {}\n", self.address))
            .unwrap_or_else(|e| panic!("{e}"));
        path
    }

    /// Started again: its cache emptied (what a TTL's end does, now).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn write_config(&self) {
        let d = self.dir.path().display();
        let mut config = format!(
            "server:\n  interface: {}\n  port: 53\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  \
             directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n  \
             verbosity: 0\n  access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n  \
             module-config: \"iterator\"\n  qname-minimisation: no\n  do-ip6: no\n",
            self.address
        );
        // Test zones live under special-use names (`.test`, RFC 6761) that
        // Unbound answers itself by default: not these.
        let mut tops: Vec<&str> = Vec::new();
        for (zone, _) in &self.zones {
            config.push_str(&format!("  domain-insecure: \"{zone}\"\n"));
            let top = zone.rsplit('.').next().unwrap_or(zone);
            if !tops.contains(&top) {
                tops.push(top);
                config.push_str(&format!("  local-zone: \"{top}.\" nodefault\n"));
            }
        }
        for (zone, server) in &self.zones {
            config.push_str(&format!(
                "stub-zone:\n  name: \"{zone}\"\n  stub-addr: {}@{}\n",
                server.ip(),
                server.port()
            ));
        }
        std::fs::write(self.dir.path().join("unbound.conf"), config)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.unbound)
            .args([
                "-d",
                "-c",
                &self.dir.path().join("unbound.conf").display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("unbound: {e}"));
        crate::nginx::wait_for(self.address, 53, "unbound");
        self.child = Some(child);
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        self.stop();
    }
}
