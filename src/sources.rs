//! The network sources of the configuration, run together until stopped:
//! the SMTP/LMTP listener, the HTTPS TLS-RPT endpoint and the IMAP source,
//! each with a publisher of its own (Kafka, or the in-process bus).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmarcflow_ingest::bus::{Metered, Publish};
use dmarcflow_ingest::files::FilesSource;
use tokio::sync::watch;

use crate::config::Config;

/// How long a stopping IMAP source may take to settle its round.
const DRAIN: Duration = Duration::from_secs(60);

/// Runs every configured network source until `stop` turns true (then the
/// IMAP source finishes its round and logs out) or a listener fails.
pub async fn run<P: Publish>(
    config: &Config,
    new_publisher: impl Fn() -> Result<P>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let publisher = |source| Ok::<_, anyhow::Error>(Metered::new(new_publisher()?, source));
    if config.smtp.is_none() && config.http.is_none() && config.imap.is_none() {
        bail!("nothing to ingest: give paths, or configure [smtp], [http] or [imap] (DMARCFLOW_SMTP_LISTEN, DMARCFLOW_HTTP_LISTEN, DMARCFLOW_IMAP_HOST)");
    }
    let mut listeners = tokio::task::JoinSet::new();
    if let Some(smtp) = &config.smtp {
        let shared = Arc::new(dmarcflow_ingest::smtp::Shared {
            config: smtp.config.clone(),
            source: FilesSource::default(),
            publisher: publisher("smtp")?,
        });
        let listener = bind(&smtp.listen).await?;
        let kind = if smtp.config.lmtp { "LMTP" } else { "SMTP" };
        tracing::info!(address = %listener.local_addr()?, "{kind} listening");
        eprintln!("{kind} listening on {}", listener.local_addr()?);
        listeners.spawn(dmarcflow_ingest::smtp::serve(listener, shared));
    }
    if let Some(http) = &config.http {
        let shared = Arc::new(dmarcflow_ingest::http::Shared {
            config: http.config.clone(),
            source: FilesSource::default(),
            publisher: publisher("http")?,
        });
        let listener = bind(&http.listen).await?;
        let kind = if http.config.tls.is_some() {
            "HTTPS"
        } else {
            "HTTP"
        };
        eprintln!("{kind} TLS-RPT endpoint on {}", listener.local_addr()?);
        listeners.spawn(dmarcflow_ingest::http::serve(listener, shared));
    }
    let imap = match &config.imap {
        Some(imap) => {
            let shared = Arc::new(dmarcflow_ingest::imap::Shared {
                config: imap.config.clone(),
                source: FilesSource::default(),
                publisher: publisher("imap")?,
            });
            eprintln!(
                "IMAP source watching {} on {}:{}",
                imap.config.mailboxes.join(", "),
                imap.config.host,
                imap.config.port
            );
            Some(tokio::spawn(dmarcflow_ingest::imap::serve(
                shared,
                stop.clone(),
            )))
        }
        None => None,
    };
    let outcome = tokio::select! {
        Some(ended) = listeners.join_next() => match ended {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::Error::from(e).context("a listener failed")),
            Err(e) => Err(anyhow::Error::from(e).context("a listener panicked")),
        },
        () = crate::shutdown::stopped(stop) => Ok(()),
    };
    listeners.abort_all();
    if let Some(imap) = imap {
        if outcome.is_err() {
            imap.abort();
        } else {
            tokio::time::timeout(DRAIN, imap)
                .await
                .context("the IMAP source did not stop in time")??;
        }
    }
    outcome
}

async fn bind(address: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))
}
