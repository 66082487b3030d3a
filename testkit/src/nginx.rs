//! Debian's nginx, started by a test on a loopback port: HTTPS for every
//! host name a test gives (one certificate, chosen by SNI being the same
//! for all), each host's files under its own directory, plus whatever
//! extra `server`-level directives a test adds (a redirect, a slow path).
//! The real web server MTA-STS policies and BIMI logos are fetched from.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ports::free_port;
use crate::services::program;

pub struct Nginx {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Nginx {
    /// Serving `files` (`host/path`, contents) over HTTPS on 127.0.0.1
    /// with `cert_pem`/`key_pem` for every host; `extra` is placed inside
    /// the `server` block. None (skip) without nginx outside CI.
    pub fn start(
        cert_pem: &str,
        key_pem: &str,
        files: &[(&str, Vec<u8>)],
        extra: &str,
    ) -> Option<Self> {
        let nginx = program(&["/usr/sbin/nginx"], "nginx-light")?;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let d = dir.path();
        let write = |path: &Path, bytes: &[u8]| {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        };
        write(&d.join("cert.pem"), cert_pem.as_bytes());
        write(&d.join("key.pem"), key_pem.as_bytes());
        for (path, bytes) in files {
            write(&d.join("sites").join(path), bytes);
        }
        let dd = d.display();
        let config = format!(
            "daemon off;\nmaster_process off;\nuser root;\nerror_log stderr error;\npid {dd}/nginx.pid;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n\
               client_body_temp_path {dd}/tmp; proxy_temp_path {dd}/tmp; fastcgi_temp_path {dd}/tmp;\n\
               uwsgi_temp_path {dd}/tmp; scgi_temp_path {dd}/tmp;\n\
               types {{ text/plain txt; image/svg+xml svg; image/png png; }}\n\
               default_type application/octet-stream;\n\
               server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name _;\n\
                 ssl_certificate {dd}/cert.pem;\n    ssl_certificate_key {dd}/key.pem;\n\
                 root {dd}/sites/$host;\n{extra}\n  }}\n}}\n"
        );
        write(&d.join("nginx.conf"), config.as_bytes());
        std::fs::create_dir_all(d.join("tmp")).unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new(nginx)
            .args([
                "-p",
                &dd.to_string(),
                "-c",
                &d.join("nginx.conf").display().to_string(),
                "-e",
                "stderr",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("nginx: {e}"));
        wait_for(std::net::Ipv4Addr::LOCALHOST, port, "nginx");
        Some(Self { dir, port, child })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn wait_for(ip: std::net::Ipv4Addr, port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect((ip, port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} does not listen on {ip}:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
