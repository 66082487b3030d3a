//! MX hosts for posture tests: one Debian Exim daemon a test starts on
//! several loopback addresses (127.0.0.2 and up, all on one port), each
//! address a host of its own: with a certificate (valid, expired, for
//! another name, about to expire) it offers STARTTLS and presents that
//! certificate; without one it offers no STARTTLS. It accepts no mail.

use std::net::Ipv4Addr;
use std::process::{Child, Command, Stdio};

use crate::nginx::wait_for;
use crate::pki::Issued;
use crate::ports::free_port;
use crate::services::program;

pub struct MxHosts {
    _dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl MxHosts {
    /// Exim on each of `hosts`' addresses; None (skip) without Exim
    /// outside CI.
    pub fn start(hosts: &[(Ipv4Addr, Option<&Issued>)]) -> Option<Self> {
        let exim = program(&["/usr/sbin/exim4", "/usr/sbin/exim"], "exim4-daemon-light")?;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let d = dir.path();
        for sub in ["spool", "log"] {
            std::fs::create_dir_all(d.join(sub)).unwrap_or_else(|e| panic!("{e}"));
        }
        let write = |name: String, text: &str| {
            std::fs::write(d.join(&name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
        };
        for (ip, issued) in hosts {
            if let Some(issued) = issued {
                write(format!("{ip}.crt"), &issued.cert_pem);
                write(format!("{ip}.key"), &issued.key_pem);
            }
        }
        let port = free_port();
        let dd = d.display();
        let interfaces: Vec<String> = hosts.iter().map(|(ip, _)| ip.to_string()).collect();
        // Exim expands these per connection: each address's files, and
        // STARTTLS advertised only where a certificate exists.
        let config = format!(
            "primary_hostname = mx.posture.test\n\
             daemon_smtp_ports = {port}\n\
             local_interfaces = {}\n\
             spool_directory = {dd}/spool\n\
             log_file_path = {dd}/log/%slog\n\
             exim_user = root\nexim_group = root\nnever_users =\n\
             host_lookup =\nrfc1413_hosts =\n\
             tls_advertise_hosts = ${{if exists{{{dd}/$received_ip_address.crt}}{{*}}{{}}}}\n\
             tls_certificate = {dd}/$received_ip_address.crt\n\
             tls_privatekey = {dd}/$received_ip_address.key\n\
             acl_smtp_rcpt = acl_rcpt\n\
             begin acl\nacl_rcpt:\n  deny\n",
            interfaces.join(" : ")
        );
        write("exim.conf".into(), &config);
        let child = Command::new(exim)
            .args(["-C", &d.join("exim.conf").display().to_string(), "-bdf"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("exim: {e}"));
        for (ip, _) in hosts {
            wait_for(*ip, port, "exim");
        }
        Some(Self {
            _dir: dir,
            port,
            child,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for MxHosts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
