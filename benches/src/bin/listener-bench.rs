//! `listener-bench`: the client side of `benches/listeners.sh`.
//!
//! - `rate smtp|https PORT SECONDS CONCURRENCY [CERT]`: connections opened
//!   and served for SECONDS by CONCURRENCY clients at once, each
//!   connecting, waiting for the SMTP greeting (or completing the TLS
//!   handshake), and closing; prints `accepted/s N`.
//! - `hold smtp|https PORT N SECONDS [CERT]`: N connections, each greeted
//!   (or through its handshake) and then idle, held for SECONDS; prints
//!   `held N` once all are open, so the script can measure the server.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

#[derive(Clone)]
enum Kind {
    Smtp,
    Https(TlsConnector),
}

fn connector(cert: &str) -> Result<TlsConnector, String> {
    let cert = CertificateDer::from_pem_file(cert).map_err(|e| format!("{cert}: {e}"))?;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(cert).map_err(|e| e.to_string())?;
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// One connection, served: greeted, or through its TLS handshake.
async fn open(kind: &Kind, port: u16) -> Option<Box<dyn Conn>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    match kind {
        Kind::Smtp => {
            let mut tcp = tcp;
            let mut greeting = [0u8; 128];
            let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut greeting))
                .await
                .ok()?
                .ok()?;
            greeting[..n]
                .starts_with(b"220")
                .then(|| Box::new(tcp) as Box<dyn Conn>)
        }
        Kind::Https(tls) => {
            let name = ServerName::try_from("localhost").ok()?;
            let stream = tokio::time::timeout(Duration::from_secs(10), tls.connect(name, tcp))
                .await
                .ok()?
                .ok()?;
            Some(Box::new(stream))
        }
    }
}

async fn rate(kind: Kind, port: u16, seconds: u64, concurrency: usize) -> f64 {
    let served = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (kind, served) = (kind.clone(), served.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                if open(&kind, port).await.is_some() {
                    served.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    served.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn hold(kind: Kind, port: u16, n: usize, seconds: u64) -> usize {
    let mut held = Vec::with_capacity(n);
    // 64 at a time: the accept queue is never the limit.
    for chunk in 0..n.div_ceil(64) {
        let batch = (chunk * 64..n.min(chunk * 64 + 64)).map(|_| open(&kind, port));
        held.extend(
            futures_util::future::join_all(batch)
                .await
                .into_iter()
                .flatten(),
        );
    }
    println!("held {}", held.len());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    held.len()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || {
        eprintln!(
            "usage: listener-bench rate smtp|https PORT SECONDS CONCURRENCY [CERT]\n       listener-bench hold smtp|https PORT N SECONDS [CERT]"
        );
        ExitCode::from(2)
    };
    let number = |i: usize| args.get(i).and_then(|v| v.parse::<u64>().ok());
    let (Some(mode), Some(kind), Some(port), Some(a), Some(b)) = (
        args.first(),
        args.get(1),
        number(2).and_then(|p| u16::try_from(p).ok()),
        number(3),
        number(4),
    ) else {
        return usage();
    };
    let kind = match (kind.as_str(), args.get(5)) {
        ("smtp", _) => Kind::Smtp,
        ("https", Some(cert)) => match connector(cert) {
            Ok(tls) => Kind::Https(tls),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        },
        _ => return usage(),
    };
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        return ExitCode::FAILURE;
    };
    match mode.as_str() {
        "rate" => {
            let per_second = runtime.block_on(rate(kind, port, a, b as usize));
            println!("accepted/s {per_second:.0}");
        }
        "hold" => {
            runtime.block_on(hold(kind, port, a as usize, b));
        }
        _ => return usage(),
    }
    ExitCode::SUCCESS
}
