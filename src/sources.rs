//! The network sources of the configuration, run together until stopped:
//! the SMTP/LMTP listener, the HTTPS TLS-RPT endpoint and the IMAP source,
//! each with a publisher of its own (Kafka, or the in-process bus).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmarcflow_bus::{Metered, Publish};
use tokio::sync::watch;

use crate::config::listeners::Caps;
use crate::config::Config;
use dmarcflow_listen::Limits;

/// How long stopping sources may take to finish what is under way (an IMAP
/// round, an SMTP delivery, a TLS-RPT POST).
const DRAIN: Duration = Duration::from_secs(60);

/// Runs every configured network source until `stop` turns true (then the
/// listeners stop accepting, conversations under way finish, and the IMAP
/// source settles its round and logs out) or a listener fails.
pub async fn run<P: Publish>(
    config: &Config,
    privacy: &dmarcflow_privacy::Privacy,
    new_publisher: impl Fn() -> Result<P>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let publisher = |source| Ok::<_, anyhow::Error>(Metered::new(new_publisher()?, source));
    if config.smtp.is_none() && config.http.is_none() && config.imap.is_none() {
        bail!("nothing to ingest: give paths, or configure [smtp], [http] or [imap] (DMARCFLOW_SMTP_LISTEN, DMARCFLOW_HTTP_LISTEN, DMARCFLOW_IMAP_HOST)");
    }
    let budget = dmarcflow_ingest::MemoryBudget::split(config.memory_budget);
    let (smtp_limits, http_limits) = listener_limits(config, &budget.for_connections());
    // One enricher (its DNS cache) for every source.
    let enricher = match &config.enrich {
        Some(c) => Some(Arc::new(
            dmarcflow_enrich::Enricher::open(c).context("[enrich]")?,
        )),
        None => None,
    };
    let mut listeners = tokio::task::JoinSet::new();
    // Every connection holds a clone of its listener's `Shared`: once only
    // these are left, no message is in flight.
    let mut held: Vec<Arc<dyn std::any::Any + Send + Sync>> = Vec::new();
    if let Some(smtp) = &config.smtp {
        let shared = Arc::new(
            dmarcflow_ingest::smtp::Shared::new(
                dmarcflow_ingest::smtp::SmtpConfig {
                    limits: smtp_limits,
                    ..smtp.config.clone()
                },
                publisher("smtp")?,
            )
            .with_budget(budget.clone())
            .with_enricher(enricher.clone())
            .with_privacy(privacy.clone()),
        );
        held.push(shared.clone());
        let listener = bind(&smtp.listen).await?;
        let kind = if smtp.config.lmtp { "LMTP" } else { "SMTP" };
        eprintln!("{kind} listening on {}", listener.local_addr()?);
        listeners.spawn(dmarcflow_ingest::smtp::serve(listener, shared));
    }
    // [mta_sts]: the HTTPS listener serves the hosted policies, kept on
    // what to serve by a task of their own.
    let mut hosting = None;
    let pages = match (&config.http, &config.mta_sts) {
        (Some(http), Some(hosted)) => {
            let pages = Arc::new(dmarcflow_ingest::http::pages::Pages::default());
            let (zone, mut server) = match &config.dns {
                Some(dns) => {
                    let (zone, server) = crate::mta_sts_cmd::zone_server(dns).await?;
                    (Some(zone), Some(server))
                }
                None => (None, None),
            };
            let policies = crate::mta_sts_cmd::policies(config, pages.clone(), zone)?;
            let dns_server = async move {
                match server.as_mut() {
                    Some(server) => {
                        if let Err(e) = server.block_until_done().await {
                            tracing::error!(error = %e, "the DNS server stopped");
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            let certificates = match (&hosted.acme, &http.sni) {
                (Some(acme), Some(sni)) => Some(crate::mta_sts_cmd::certificates(
                    config,
                    acme.clone(),
                    hosted.acme_names(),
                    sni.clone(),
                )),
                _ => None,
            };
            hosting = Some(async move {
                let certificates = async move {
                    match certificates {
                        Some(task) => task.await,
                        None => std::future::pending().await,
                    }
                };
                tokio::join!(policies, certificates, dns_server);
            });
            Some(pages)
        }
        _ => None,
    };
    // It runs beside the listeners (never ends by itself) until they stop.
    let hosting = async move {
        match hosting {
            Some(task) => task.await,
            None => std::future::pending().await,
        }
    };
    if let Some(http) = &config.http {
        let shared = Arc::new(
            dmarcflow_ingest::http::Shared::new(
                dmarcflow_ingest::http::HttpConfig {
                    limits: http_limits,
                    pages: pages.clone(),
                    ..http.config.clone()
                },
                publisher("http")?,
            )
            .with_budget(budget.clone())
            .with_enricher(enricher.clone())
            .with_privacy(privacy.clone()),
        );
        held.push(shared.clone());
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
            let shared = Arc::new(
                dmarcflow_ingest::imap::Shared::new(imap.config.clone(), publisher("imap")?)
                    .with_budget(budget.clone())
                    .with_enricher(enricher.clone())
                    .with_privacy(privacy.clone()),
            );
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
    // A listener's accept loop never ends by itself (an accept error is
    // survived): one that does has panicked.
    let outcome = tokio::select! {
        Some(ended) = listeners.join_next() => match ended {
            Ok(()) => Err(anyhow::anyhow!("a listener stopped")),
            Err(e) => Err(anyhow::Error::from(e).context("a listener panicked")),
        },
        () = crate::shutdown::stopped(stop) => Ok(()),
        () = hosting => Err(anyhow::anyhow!("the MTA-STS policies stopped being served")),
    };
    listeners.abort_all();
    while listeners.join_next().await.is_some() {}
    drain(&held).await;
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

/// The caps of the SMTP and HTTPS listeners: the configured ones over the
/// defaults for this process, sized from its open-file limit (raised to
/// the hard one first) and the pool connections reserve from. Logged,
/// with the limit.
fn listener_limits(
    config: &Config,
    connections: &dmarcflow_ingest::MemoryBudget,
) -> (Limits, Limits) {
    let files = match dmarcflow_listen::open_files::raise() {
        Ok(files) => files,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the open-file limit; assuming 1024");
            dmarcflow_listen::open_files::OpenFiles {
                before: 1024,
                soft: 1024,
                hard: 1024,
            }
        }
    };
    let listeners = usize::from(config.smtp.is_some()) + usize::from(config.http.is_some());
    let sized = |reserve| Limits::sized(files.soft, connections.bytes(), listeners, reserve);
    let smtp = config.smtp.as_ref().map_or(Caps::default(), |s| s.caps);
    let http = config.http.as_ref().map_or(Caps::default(), |h| h.caps);
    let smtp = smtp.over(sized(dmarcflow_ingest::smtp::CONNECTION_RESERVE));
    let http = http.over(sized(dmarcflow_ingest::http::CONNECTION_RESERVE));
    let mut caps = Vec::new();
    if config.smtp.is_some() {
        caps.push(format!(
            "smtp {} (per address {})",
            smtp.max_connections, smtp.max_connections_per_ip
        ));
    }
    if config.http.is_some() {
        caps.push(format!(
            "http {} (per address {})",
            http.max_connections, http.max_connections_per_ip
        ));
    }
    if !caps.is_empty() {
        let message = format!(
            "open files: soft limit {} (was {}), hard limit {}; connection caps: {}",
            files.soft,
            files.before,
            files.hard,
            caps.join(", ")
        );
        eprintln!("{message}");
    }
    (smtp, http)
}

/// Waits (up to `DRAIN`) for the SMTP and HTTPS conversations under way
/// to end: a message being delivered gets its answer. Whatever is cut off
/// at the deadline was never acknowledged, so its sender retries.
async fn drain(held: &[Arc<dyn std::any::Any + Send + Sync>]) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    loop {
        let open: usize = held
            .iter()
            .map(|shared| Arc::strong_count(shared) - 1)
            .sum();
        if open == 0 {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(open, "connections still open at exit; their senders retry");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bind(address: &str) -> Result<tokio::net::TcpListener> {
    dmarcflow_listen::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))
}
