//! `dmarcflow check DOMAIN...`: each domain's published records checked
//! and scored (`dmarcflow_posture`), through the enrichment resolver
//! (`[enrich] nameservers`, else /etc/resolv.conf's). Text for people, or
//! one JSON object per line with `--json`; exit status 2 when any finding
//! is critical, so it can gate a pipeline or a cron job.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use dmarcflow_posture::{check_all, text, trust, Clients, HickoryDns, Https, SelectorSource, Smtp};

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
    /// PEM certificates to trust besides the web PKI, for MTA-STS and
    /// BIMI fetches from private servers (tests, internal zones).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Domains checked at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Each DNS lookup's and each HTTPS fetch's bound, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Skip the MX hosts' STARTTLS probes (where port 25 is blocked).
    #[arg(long)]
    pub skip_starttls: bool,
    /// The name this side gives in EHLO to MX hosts.
    #[arg(long, default_value = "posture-check.dmarcflow.invalid")]
    pub helo: String,
    /// The HTTPS port of policy fetches (443; another only for tests).
    #[arg(long, default_value_t = 443, hide = true)]
    pub https_port: u16,
    /// The SMTP port of MX probes (25; another only for tests).
    #[arg(long, default_value_t = 25, hide = true)]
    pub smtp_port: u16,
}

/// Prints every domain's posture; whether any had a critical finding.
pub fn run(config: &Config, args: &CheckArgs) -> Result<bool> {
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut nameservers = config
        .enrich
        .as_ref()
        .map(|e| e.nameservers.clone())
        .unwrap_or_default();
    if nameservers.is_empty() {
        nameservers = dmarcflow_enrich::system_nameservers()?;
    }
    let ca = match &args.ca_file {
        Some(path) => Some(std::fs::read(path).with_context(|| format!("{}", path.display()))?),
        None => None,
    };
    let roots = trust::roots(ca.as_deref())?;
    let clients = Clients {
        https: Https::new(roots.clone(), timeout, args.https_port)?,
        smtp: if args.skip_starttls {
            None
        } else {
            Some(Smtp::new(roots, timeout, args.smtp_port, &args.helo)?)
        },
    };
    let selectors: Vec<(String, SelectorSource)> = args
        .selectors
        .iter()
        .map(|s| (s.clone(), SelectorSource::Configured))
        .collect();
    let domains: Vec<(String, Vec<(String, SelectorSource)>)> = args
        .domains
        .iter()
        .map(|d| (d.clone(), selectors.clone()))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let postures = runtime.block_on(async {
        let reverse = dmarcflow_enrich::ReverseDns::new(&dmarcflow_enrich::DnsConfig {
            nameservers,
            timeout,
            concurrency: args.concurrency.max(1) * 4,
            cache_size: 10_000,
        })?;
        let dns = HickoryDns::new(reverse.resolver().clone(), timeout);
        anyhow::Ok(check_all(&dns, &clients, &domains, args.concurrency).await)
    })?;
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
