//! `dmarcflow mta-sts records [DOMAIN]` and `dmarcflow mta-sts set DOMAIN
//! --mode MODE [--force]`: hosted MTA-STS (`[mta_sts]`,
//! `dmarcflow_hosted`) from the command line; and the task that keeps the
//! HTTPS listener's pages on the policies to serve ([`policies`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dmarcflow_hosted::mta_sts::served::{self, Served};
use dmarcflow_hosted::mta_sts::{modes, policy_host, records, Mode, POLICY_PATH};
use dmarcflow_ingest::http::pages::{Page, Pages};
use dmarcflow_posture::HickoryDns;
use dmarcflow_store::Store;

use crate::config::Config;

#[derive(clap::Subcommand)]
pub enum MtaStsCommand {
    /// Print the records a hosted domain publishes (each configured
    /// domain, or DOMAIN): its policy host, `_mta-sts` with the served
    /// policy's id, `_smtp._tls`.
    Records { domain: Option<String> },
    /// Change a hosted domain's mode (none, testing, enforce); the
    /// listener serves it within `[mta_sts] refresh_secs`. Enforce is
    /// refused while an MX host is outside the policy's patterns, unless
    /// forced.
    Set {
        domain: String,
        #[arg(long)]
        mode: String,
        #[arg(long)]
        force: bool,
    },
}

const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

fn hosted(config: &Config) -> Result<&crate::config::mta_sts::MtaSts> {
    config
        .mta_sts
        .as_ref()
        .context("no [mta_sts] in the configuration: nothing is hosted")
}

/// The stored modes, when the store exists (a SQLite file is not created
/// to print records).
async fn stored_modes(config: &Config) -> Result<BTreeMap<String, Mode>> {
    if config.store.not_created() {
        return Ok(BTreeMap::new());
    }
    let store = Store::open(&config.store).await?;
    Ok(modes::load(&store).await?)
}

pub fn run(config: &Config, command: &MtaStsCommand) -> Result<()> {
    let hosted = hosted(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dns = crate::check_cmd::resolver(config, LOOKUP_TIMEOUT, 4)?;
        match command {
            MtaStsCommand::Records { domain } => {
                let modes = stored_modes(config).await?;
                let served =
                    served::compute(&hosted.config, &modes, &dns, &BTreeMap::new()).await;
                let wanted: Vec<&String> = match domain {
                    Some(d) => {
                        let d = d.trim_end_matches('.').to_ascii_lowercase();
                        let spf = config.dns.as_ref().is_some_and(|z| z.spf.contains_key(&d));
                        match hosted.config.domains.get_key_value(&d) {
                            Some((key, _)) => vec![key],
                            None if spf => Vec::new(),
                            None => bail!("{d} is not a hosted domain ([mta_sts.domains] or [dns.spf])"),
                        }
                    }
                    None => hosted.config.domains.keys().collect(),
                };
                if let Some(dns_config) = &config.dns {
                    for (d, record) in &dns_config.spf {
                        if domain.as_ref().is_some_and(|w| !w.eq_ignore_ascii_case(d)) {
                            continue;
                        }
                        let all = record
                            .split_whitespace()
                            .find(|t| t.to_ascii_lowercase().trim_start_matches(['+', '-', '~', '?']) == "all")
                            .unwrap_or("?all");
                        println!(
                            "{d}. TXT \"v=spf1 include:{d}._spf.{} {all}\"",
                            dns_config.zone
                        );
                    }
                }
                for d in wanted {
                    match served.get(d) {
                        Some(s) => {
                            println!(
                                "; {d}: mode {}, mx {}, max_age {} (policy id {})",
                                s.policy.mode,
                                s.policy.mx.join(" "),
                                s.policy.max_age,
                                s.policy.id()
                            );
                            for line in records::records(s, &hosted.config) {
                                println!("{line}");
                            }
                        }
                        None => println!(
                            "; {d}: no policy yet: its MX hosts could not be looked up (configure mx patterns, or check its MX records)"
                        ),
                    }
                }
                Ok(())
            }
            MtaStsCommand::Set {
                domain,
                mode,
                force,
            } => {
                let domain = domain.trim_end_matches('.').to_ascii_lowercase();
                let Some(configured) = hosted.config.domains.get(&domain) else {
                    bail!("{domain} is not a hosted domain ([mta_sts.domains])");
                };
                let Some(mode) = Mode::parse(mode) else {
                    bail!("--mode {mode:?}: none, testing or enforce");
                };
                if mode == Mode::Enforce && !force {
                    let hosts = served::mx_hosts(&dns, &domain).await.map_err(|why| {
                        anyhow::anyhow!("refused: {domain}'s MX hosts could not be looked up to check the policy covers them ({why}); --force to enforce anyway")
                    })?;
                    let patterns = if configured.mx.is_empty() {
                        hosts.clone()
                    } else {
                        configured.mx.clone()
                    };
                    let policy = dmarcflow_hosted::mta_sts::Policy {
                        mode,
                        mx: patterns,
                        max_age: configured.max_age,
                    };
                    let uncovered = policy.uncovered(&hosts);
                    if hosts.is_empty() {
                        bail!("refused: {domain} has no MX hosts; --force to enforce anyway");
                    }
                    if !uncovered.is_empty() {
                        bail!(
                            "refused: the policy's mx patterns ({}) do not cover the MX host{} {}: senders enforcing it would not deliver there; add the pattern{} or --force",
                            policy.mx.join(", "),
                            if uncovered.len() == 1 { "" } else { "s" },
                            uncovered.join(", "),
                            if uncovered.len() == 1 { "" } else { "s" },
                        );
                    }
                }
                let mut store = Store::open(&config.store).await?;
                let version = dmarcflow_store::version_now();
                modes::set(&mut store, &domain, mode, version).await?;
                eprintln!("{domain}: mode {mode}");
                Ok(())
            }
        }
    })
}

/// The hosted DNS zone's server (`[dns]`), answering until dropped.
pub async fn zone_server(
    dns: &crate::config::dns::Dns,
) -> Result<(
    Arc<dmarcflow_hosted::zone::HostedZone>,
    hickory_server::Server<dmarcflow_hosted::zone::Limited>,
)> {
    let zone = Arc::new(
        dmarcflow_hosted::zone::HostedZone::new(&dns.zone, &dns.nameserver)
            .await
            .map_err(anyhow::Error::msg)?,
    );
    let udp = tokio::net::UdpSocket::bind(&dns.listen)
        .await
        .with_context(|| format!("[dns] listen {} (UDP)", dns.listen))?;
    let tcp = tokio::net::TcpListener::bind(&dns.listen)
        .await
        .with_context(|| format!("[dns] listen {} (TCP)", dns.listen))?;
    eprintln!("DNS zone {} served on {}", dns.zone, udp.local_addr()?);
    let mut server = hickory_server::Server::new(zone.handler(dns.rate));
    server.register_socket(udp);
    // A TCP client gets 5 s for its query; answers fit in 4 KiB.
    server.register_listener(tcp, Duration::from_secs(5), 4096);
    Ok((zone, server))
}

/// Keeps the policy hosts' ACME certificates current until dropped: a
/// round at once, then every `check`; each round's outcome recorded in the
/// store for the alert on failed renewals.
pub fn certificates(
    config: &Config,
    acme: dmarcflow_hosted::acme::AcmeConfig,
    names: Vec<String>,
    sni: Arc<dmarcflow_listen::certificates::SniCertificates>,
) -> impl std::future::Future<Output = ()> + 'static {
    let store_config = config.store.clone();
    async move {
        let mut store: Option<Store> = None;
        loop {
            let now = dmarcflow_ingest::received_now();
            let outcomes = dmarcflow_hosted::acme::maintain(&acme, &names, &sni, now).await;
            if store.is_none() {
                store = Store::open(&store_config).await.ok();
            }
            if let Some(s) = store.as_mut() {
                let version = dmarcflow_store::version_now();
                if let Err(e) = dmarcflow_hosted::renewals::record(s, &outcomes, version).await {
                    tracing::warn!(error = %e, "acme: the round could not be recorded");
                }
            }
            tokio::time::sleep(acme.check).await;
        }
    }
}

/// Keeps `pages` on the policies to serve until dropped: computed at once,
/// then every `[mta_sts] refresh_secs` (the stored modes read again, the MX
/// hosts looked up again through a resolver whose cache follows their TTLs).
pub fn policies(
    config: &Config,
    pages: Arc<Pages>,
    zone: Option<Arc<dmarcflow_hosted::zone::HostedZone>>,
) -> Result<impl std::future::Future<Output = ()> + 'static> {
    let hosted = hosted(config)?.config.clone();
    let store_config = config.store.clone();
    let dns = crate::check_cmd::resolver(config, LOOKUP_TIMEOUT, 4)?;
    let spf_config = config
        .dns
        .as_ref()
        .map(|d| (d.zone.clone(), d.spf.clone(), d.spf_refresh));
    Ok(async move {
        let mut store: Option<Store> = None;
        let mut serving: BTreeMap<String, Served> = BTreeMap::new();
        // The flattened SPF chains by domain, and when they were made.
        let mut flattened: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut flattened_at: Option<std::time::Instant> = None;
        loop {
            if store.is_none() {
                match Store::open(&store_config).await {
                    Ok(s) => store = Some(s),
                    Err(e) => {
                        tracing::warn!(error = %e, "mta-sts: the store is not reachable; configured modes served")
                    }
                }
            }
            let stored = match store.as_ref() {
                Some(s) => match modes::load(s).await {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "mta-sts: the stored modes could not be read; serving the last policies");
                        tokio::time::sleep(hosted.refresh).await;
                        continue;
                    }
                },
                None => BTreeMap::new(),
            };
            let next = served::compute(&hosted, &stored, &dns, &serving).await;
            for (domain, s) in &next {
                if serving.get(domain).map(|p| p.policy.id()) != Some(s.policy.id()) {
                    tracing::info!(%domain, mode = %s.policy.mode, id = %s.policy.id(), "mta-sts policy served");
                }
            }
            pages.replace_all(next.values().map(|s| {
                (
                    policy_host(&s.domain),
                    POLICY_PATH.to_owned(),
                    Page {
                        content_type: "text/plain",
                        body: s.policy.text().into(),
                    },
                )
            }));
            if let Some((zone_name, spf, every)) = &spf_config {
                if flattened_at.is_none_or(|at| at.elapsed() >= *every) {
                    flattened_at = Some(std::time::Instant::now());
                    flatten_spf(&dns, zone_name, spf, &mut flattened, store.as_mut()).await;
                }
            }
            if let Some(zone) = &zone {
                let mut records = records::zone_records(next.values(), &hosted);
                if let Some((zone_name, _, _)) = &spf_config {
                    let suffix = format!(".{zone_name}");
                    records.extend(flattened.values().flatten().map(|(name, text)| {
                        (
                            name.strip_suffix(&suffix).unwrap_or(name).to_owned(),
                            text.clone(),
                        )
                    }));
                }
                if let Err(e) = zone.replace(&records).await {
                    tracing::warn!(error = %e, "mta-sts: the hosted zone could not be updated");
                }
            }
            serving = next;
            tokio::time::sleep(hosted.refresh).await;
        }
    })
}

/// One round of SPF flattening (`[dns.spf]`): each domain's tree resolved
/// to ranges and chained into `flattened`. Each change is recorded in the
/// store: the alert rule compares the two newest (the first flattening is
/// recorded too, and compared with the last before a restart). A domain
/// whose tree cannot be flattened keeps its last chain.
async fn flatten_spf(
    dns: &HickoryDns,
    zone_name: &str,
    spf: &BTreeMap<String, String>,
    flattened: &mut BTreeMap<String, Vec<(String, String)>>,
    mut store: Option<&mut Store>,
) {
    for (domain, record) in spf {
        let first = format!("{domain}._spf.{zone_name}");
        let made = dmarcflow_hosted::spf::ranges(dns, domain, record)
            .await
            .and_then(|r| Ok((dmarcflow_hosted::spf::chain(&first, &r)?, r)));
        let (chain, ranges) = match made {
            Ok(made) => made,
            Err(e) => {
                tracing::warn!(%domain, error = %e, "SPF not flattened; the last chain (if any) is served");
                continue;
            }
        };
        if flattened.get(domain) == Some(&chain) {
            continue;
        }
        if flattened.contains_key(domain) {
            tracing::warn!(%domain, zone = %zone_name, "the flattened SPF changed (an include's ranges moved)");
        }
        if let Some(s) = store.as_deref_mut() {
            let version = dmarcflow_store::version_now();
            if let Err(e) =
                dmarcflow_hosted::spf::history::record(s, domain, &ranges, version).await
            {
                tracing::warn!(%domain, error = %e, "the flattened SPF could not be recorded");
            }
        }
        flattened.insert(domain.clone(), chain);
    }
}
