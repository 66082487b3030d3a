//! `dmarcflow check DOMAIN...`: each domain's published records checked
//! and scored (`dmarcflow_posture`), through the enrichment resolver
//! (`[enrich] nameservers`, else /etc/resolv.conf's). Where the store has
//! reports for a domain, the DKIM selectors they show signing are checked
//! too and the enforcement verdict of its report data is added
//! (`dmarcflow_watch`); `--save` stores the checks. Text for people, or one
//! JSON object per line with `--json`; exit status 2 when any finding is
//! critical, so it can gate a pipeline or a cron job.
//!
//! Also the `[posture]` watch inside `run` and `sink` ([`schedule`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use dmarcflow_ingest::received_now as unix_now;
use dmarcflow_posture::{check_all, text, trust, Clients, HickoryDns, Https, Smtp};
use dmarcflow_store::Store;

use crate::config::posture::DEFAULT_HELO;
use crate::config::Config;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The domains to check.
    #[arg(required = true)]
    pub domains: Vec<String>,
    /// One JSON object per domain per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// A DKIM selector to check (repeatable).
    #[arg(long = "selector")]
    pub selectors: Vec<String>,
    /// Store the checks (`domain_checks`) for their history and alerts.
    #[arg(long)]
    pub save: bool,
    /// Do not read the store (no selectors from reports, no verdict).
    #[arg(long, conflicts_with = "save")]
    pub no_store: bool,
    /// PEM certificates to trust besides the web PKI, for MTA-STS and
    /// BIMI fetches and MX certificates of private servers (tests,
    /// internal zones). Default: `[posture] ca_file`.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Domains checked at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Each DNS lookup's, HTTPS fetch's and MX probe's bound, in
    /// milliseconds. Default: `[posture] timeout_ms`, else 5000.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Skip the MX hosts' STARTTLS probes (where port 25 is blocked).
    #[arg(long)]
    pub skip_starttls: bool,
    /// The name this side gives in EHLO to MX hosts.
    #[arg(long)]
    pub helo: Option<String>,
    /// The HTTPS port of policy fetches (443; another only for tests).
    #[arg(long, default_value_t = 443, hide = true)]
    pub https_port: u16,
    /// The SMTP port of MX probes (25; another only for tests).
    #[arg(long, default_value_t = 25, hide = true)]
    pub smtp_port: u16,
}

/// How a check reaches out: the settings of `[posture]` under the command
/// line's.
struct Reach {
    timeout: Duration,
    starttls: bool,
    helo: String,
    ca_file: Option<PathBuf>,
    https_port: u16,
    smtp_port: u16,
}

impl Reach {
    fn clients(&self) -> Result<Clients> {
        let ca = match &self.ca_file {
            Some(path) => Some(std::fs::read(path).with_context(|| format!("{}", path.display()))?),
            None => None,
        };
        let roots = trust::roots(ca.as_deref())?;
        Ok(Clients {
            https: Https::new(roots.clone(), self.timeout, self.https_port)?,
            smtp: if self.starttls {
                Some(Smtp::new(roots, self.timeout, self.smtp_port, &self.helo)?)
            } else {
                None
            },
        })
    }
}

/// The resolver checks go through (inside a runtime).
pub(crate) fn resolver(
    config: &Config,
    timeout: Duration,
    concurrency: usize,
) -> Result<HickoryDns> {
    let mut nameservers = config
        .enrich
        .as_ref()
        .map(|e| e.nameservers.clone())
        .unwrap_or_default();
    if nameservers.is_empty() {
        nameservers = dmarcflow_enrich::system_nameservers()?;
    }
    let reverse = dmarcflow_enrich::ReverseDns::new(&dmarcflow_enrich::DnsConfig {
        nameservers,
        timeout,
        concurrency: concurrency.max(1) * 4,
        cache_size: 10_000,
    })?;
    Ok(HickoryDns::new(reverse.resolver().clone(), timeout))
}

/// The store to read, when there is one: a SQLite file is not created by a
/// check that does not save.
async fn store_for(config: &Config, args: &CheckArgs) -> Result<Option<Store>> {
    if args.no_store {
        return Ok(None);
    }
    if !args.save && config.store.not_created() {
        return Ok(None);
    }
    match Store::open(&config.store).await {
        Ok(store) => Ok(Some(store)),
        Err(e) if !args.save => {
            tracing::warn!(error = %e, "check: the store is not reachable; checking without it");
            Ok(None)
        }
        Err(e) => Err(e).context("opening the store to save the checks"),
    }
}

/// Prints every domain's posture; whether any had a critical finding.
pub fn run(config: &Config, args: &CheckArgs) -> Result<bool> {
    let posture = config.posture.as_ref();
    let reach = Reach {
        timeout: Duration::from_millis(
            args.timeout_ms
                .or(posture.map(|p| p.timeout.as_millis() as u64))
                .unwrap_or(5000)
                .max(1),
        ),
        starttls: !args.skip_starttls && posture.is_none_or(|p| p.starttls),
        helo: args
            .helo
            .clone()
            .or(posture.map(|p| p.helo.clone()))
            .unwrap_or_else(|| DEFAULT_HELO.to_owned()),
        ca_file: args
            .ca_file
            .clone()
            .or(posture.and_then(|p| p.ca_file.clone())),
        https_port: args.https_port,
        smtp_port: args.smtp_port,
    };
    let clients = reach.clients()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = std::time::Instant::now();
    let (postures, queries) = runtime.block_on(async {
        let dns = resolver(config, reach.timeout, args.concurrency)?;
        let mut store = store_for(config, args).await?;
        let now = unix_now();
        let days = posture.map_or(30, |p| p.watch.report_days);
        let since = now - i64::from(days) * 86_400;
        // What the store adds is a bonus to a check, unless it is to save:
        // a store that fails a read (a file another process is migrating)
        // leaves the check as it would be without one.
        let targets =
            match dmarcflow_watch::round::targets(store.as_ref(), &args.domains, &args.selectors, since)
                .await
            {
                Ok(targets) => targets,
                Err(e) if !args.save => {
                    tracing::warn!(error = %e, "check: the store could not be read; checking without it");
                    store = None;
                    dmarcflow_watch::round::targets(None, &args.domains, &args.selectors, since).await?
                }
                Err(e) => return Err(e.into()),
            };
        let mut postures = check_all(&dns, &clients, &targets, args.concurrency).await;
        if let Some(s) = store.as_mut() {
            let added = dmarcflow_watch::round::add_enforcement(
                s,
                &mut postures,
                days,
                now,
                &config.enforcement,
                &config.catalogue,
            )
            .await;
            match added {
                Ok(()) => {}
                Err(e) if !args.save => {
                    tracing::warn!(error = %e, "check: no enforcement verdict from the store")
                }
                Err(e) => return Err(e.into()),
            }
            if args.save {
                dmarcflow_watch::round::save(s, &postures).await?;
            }
        }
        anyhow::Ok((postures, dns.queries()))
    })?;
    eprintln!(
        "{} domains checked in {:.2} s, {queries} DNS queries",
        postures.len(),
        started.elapsed().as_secs_f64()
    );
    let mut critical = false;
    for posture in &postures {
        critical |= posture.critical();
        if args.json {
            println!("{}", serde_json::to_string(posture)?);
        } else {
            print!("{}", text::render(posture));
        }
    }
    Ok(critical)
}

/// `[posture]`: a round every `interval_hours` until `stop` resolves; a
/// round that fails (the store unreachable) is logged and tried again at
/// the next tick. Findings are not logged one by one (the store and the
/// alerts have them): each round logs its domains and their scores.
pub async fn schedule(config: &Config, stop: impl std::future::Future<Output = ()>) {
    let Some(posture) = config.posture.clone() else {
        return;
    };
    tokio::pin!(stop);
    let reach = Reach {
        timeout: posture.timeout,
        starttls: posture.starttls,
        helo: posture.helo.clone(),
        ca_file: posture.ca_file.clone(),
        https_port: std::env::var("DMARCFLOW_POSTURE_TEST_HTTPS_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(443),
        smtp_port: std::env::var("DMARCFLOW_POSTURE_TEST_SMTP_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(25),
    };
    let clients = match reach.clients() {
        Ok(clients) => clients,
        Err(e) => {
            tracing::error!(error = %e, "posture watch not started");
            return;
        }
    };
    let mut store: Option<Store> = None;
    loop {
        if store.is_none() {
            match Store::open(&config.store).await {
                Ok(s) => store = Some(s),
                Err(e) => tracing::warn!(error = %e, "posture: the store is not reachable"),
            }
        }
        // A resolver per round: its cache serves one round's shared
        // lookups (SPF includes), never an answer from the round before.
        let dns = match resolver(config, posture.timeout, posture.watch.concurrency) {
            Ok(dns) => Some(dns),
            Err(e) => {
                tracing::warn!(error = %e, "posture: no resolver");
                None
            }
        };
        if let (Some(s), Some(dns)) = (store.as_mut(), dns.as_ref()) {
            let round = dmarcflow_watch::round(
                s,
                &posture.watch,
                dns,
                &clients,
                &config.enforcement,
                &config.catalogue,
                unix_now(),
            );
            let checked = tokio::select! {
                r = round => r,
                () = &mut stop => return,
            };
            match checked {
                Ok(postures) => {
                    let critical = postures.iter().filter(|p| p.critical()).count();
                    tracing::info!(domains = postures.len(), critical, "posture round stored");
                }
                Err(e) => tracing::warn!(error = %e, "posture round failed"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(posture.watch.interval) => {}
            () = &mut stop => return,
        }
    }
}
