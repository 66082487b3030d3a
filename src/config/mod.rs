//! Configuration: one TOML file (`--config`, `$DMARCFLOW_CONFIG`, or
//! `./dmarcflow.toml` when present) with `DMARCFLOW_*` environment
//! overrides, one file per section (`store` for `[clickhouse]` and
//! `[sqlite]`); this one loads the file and resolves every section.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use dmarcflow_bus::KafkaConfig;
use dmarcflow_store::{BatchConfig, StoreConfig};
use serde::Deserialize;

mod alerts;
mod batch;
pub mod dns;
mod enforcement;
mod enrich;
mod kafka;
pub mod mta_sts;
pub mod posture;
pub mod privacy;
mod reports;
mod store;
mod value;
pub use reports::Reports;
mod imap;
pub mod listeners;

pub use batch::BatchSection;
pub use imap::{Imap, ImapSection};
pub use kafka::KafkaSection;
pub use listeners::{Http, HttpSection, Smtp, SmtpSection};
pub use store::{ClickHouseSection, SqliteSection};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub sqlite: SqliteSection,
    pub clickhouse: Option<ClickHouseSection>,
    #[serde(default)]
    pub batch: BatchSection,
    pub kafka: Option<KafkaSection>,
    pub smtp: Option<SmtpSection>,
    pub http: Option<HttpSection>,
    pub imap: Option<ImapSection>,
    pub metrics: Option<MetricsSection>,
    #[serde(default)]
    pub limits: LimitsSection,
    pub enrich: Option<enrich::EnrichSection>,
    pub alerts: Option<alerts::AlertsSection>,
    pub reports: Option<reports::ReportsSection>,
    pub enforcement: Option<enforcement::EnforcementSection>,
    pub posture: Option<posture::PostureSection>,
    pub mta_sts: Option<mta_sts::MtaStsSection>,
    pub dns: Option<dns::DnsSection>,
    pub privacy: Option<privacy::PrivacySection>,
    #[serde(default)]
    pub domains: BTreeMap<String, enforcement::DomainSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Bytes in flight (raw and decompressed) across the SMTP, HTTPS and
    /// IMAP sources: a number of bytes or a size such as "512MiB".
    pub memory_budget: Option<Size>,
}

/// A size in the file: bytes, or a text with a unit (`KiB`, `MiB`, `GiB`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// host:port of the Prometheus endpoint.
    pub listen: Option<String>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub batch: BatchConfig,
    /// None: no Kafka (the in-process bus).
    pub kafka: Option<Kafka>,
    /// None: no SMTP/LMTP listener.
    pub smtp: Option<Smtp>,
    /// None: no HTTPS TLS-RPT endpoint.
    pub http: Option<Http>,
    /// None: no IMAP source.
    pub imap: Option<Imap>,
    /// Where the services serve Prometheus metrics (None: nowhere).
    pub metrics_listen: Option<String>,
    /// Bytes in flight across the network sources.
    pub memory_budget: u64,
    /// None: no enrichment (`[enrich]`).
    pub enrich: Option<dmarcflow_enrich::EnrichConfig>,
    /// None: no alerts (`[alerts]`).
    pub alerts: Option<dmarcflow_alerts::AlertsConfig>,
    /// None: no scheduled reports (`[reports]`).
    pub reports: Option<Reports>,
    /// The owner's approved senders and the readiness threshold.
    pub enforcement: dmarcflow_enforce::EnforcementConfig,
    /// The sender catalogue: the project's, with `[enrich] senders` over it
    /// (read once, for the reports and the alerts).
    pub catalogue: dmarcflow_senders::SenderMap,
    /// None: no posture watch (`[posture]`).
    pub posture: Option<posture::Posture>,
    /// None: no hosted MTA-STS (`[mta_sts]`).
    pub mta_sts: Option<mta_sts::MtaSts>,
    /// None: no hosted DNS zone (`[dns]`).
    pub dns: Option<dns::Dns>,
    /// `[privacy]`: failure reports' personal data (opened by the commands
    /// that ingest, so a bad key stops them at start).
    pub privacy: dmarcflow_privacy::PrivacyConfig,
}

/// `"512MiB"`, `"2 GiB"`, `"65536"`: bytes.
pub fn parse_size(text: &str) -> Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a size"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => bail!("{other:?} is not a size unit (KiB, MiB, GiB)"),
    };
    number
        .checked_mul(scale)
        .with_context(|| format!("{text:?} is too large"))
}

/// The Kafka settings, for both sides of the bus.
pub type Kafka = KafkaConfig;

/// Where the configuration came from, for messages.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_owned());
    }
    if let Some(p) = std::env::var_os("DMARCFLOW_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let local = PathBuf::from("dmarcflow.toml");
    local.is_file().then_some(local)
}

pub fn load(explicit: Option<&Path>) -> Result<Config> {
    let file = match config_path(explicit) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            parse(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    resolve(file, &|name| std::env::var(name).ok())
}

pub fn parse(text: &str) -> Result<FileConfig> {
    if let Ok(value) = text.parse::<toml::Table>() {
        let has_password = value
            .get("clickhouse")
            .and_then(|c| c.as_table())
            .is_some_and(|c| c.contains_key("password"));
        if has_password {
            bail!("clickhouse.password is not read from the file: use password_file or DMARCFLOW_CLICKHOUSE_PASSWORD");
        }
    }
    Ok(toml::from_str(text)?)
}

/// Applies the environment (`env` looks a variable up) over the file.
pub fn resolve(file: FileConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
    let batch = batch::batch(&file.batch, env)?;
    let store = store::store(file.clickhouse.unwrap_or_default(), file.sqlite, env)?;
    let privacy = privacy::privacy(file.privacy, env)?;
    let kafka = kafka::kafka(file.kafka.unwrap_or_default(), env)?;
    let smtp = listeners::smtp(file.smtp.unwrap_or_default(), env)?;
    let http = listeners::http(file.http.unwrap_or_default(), env)?;
    let imap = imap::imap(file.imap.unwrap_or_default(), env)?;
    let enrich = enrich::enrich(file.enrich, env)?;
    let alerts = alerts::alerts(file.alerts, env)?;
    let reports = reports::reports(file.reports)?;
    let posture = posture::posture(file.posture, env)?;
    let mut mta_sts = mta_sts::mta_sts(file.mta_sts, env)?;
    let dns = dns::dns(file.dns, env)?;
    if let (Some(hosted), Some(dns)) = (mta_sts.as_mut(), dns.as_ref()) {
        hosted.config.zone = Some(dns.zone.clone());
    }
    let mut http = http;
    if let (Some(http), Some(hosted)) = (http.as_mut(), mta_sts.as_ref()) {
        listeners::serve_hosted_certificates(http, hosted)?;
    }
    let enforcement = enforcement::enforcement(file.enforcement, file.domains, env)?;
    let catalogue = match enrich.as_ref().and_then(|e| e.senders.as_deref()) {
        Some(path) => dmarcflow_senders::SenderMap::with_user_file(path)?,
        None => dmarcflow_senders::SenderMap::builtin(),
    };
    let mut alerts = alerts;
    if let Some(alerts) = alerts.as_mut() {
        alerts.enforcement = enforcement.clone();
        alerts.catalogue = catalogue.clone();
    }
    let metrics_listen = env("DMARCFLOW_METRICS_LISTEN")
        .or(file.metrics.and_then(|m| m.listen))
        .filter(|l| !l.is_empty());
    let memory_budget = match env("DMARCFLOW_MEMORY_BUDGET") {
        Some(v) => parse_size(&v).context("DMARCFLOW_MEMORY_BUDGET")?,
        None => match file.limits.memory_budget {
            Some(Size::Bytes(n)) => n,
            Some(Size::Text(t)) => parse_size(&t).context("limits.memory_budget")?,
            None => dmarcflow_ingest::budget::DEFAULT_BUDGET,
        },
    };
    Ok(Config {
        memory_budget,
        store,
        batch,
        kafka,
        smtp,
        http,
        imap,
        metrics_listen,
        enrich,
        alerts,
        reports,
        enforcement,
        catalogue,
        posture,
        mta_sts,
        dns,
        privacy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmarcflow_store::Secret;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn default_is_the_embedded_store() -> Result<()> {
        let c = resolve(FileConfig::default(), &env(&[]))?;
        assert!(
            matches!(c.store, StoreConfig::Sqlite { ref path } if path == Path::new("dmarcflow.db"))
        );
        Ok(())
    }

    #[test]
    fn environment_overrides_the_file() -> Result<()> {
        let file = parse(
            "[clickhouse]\nurl = \"http://file:8123\"\ndatabase = \"reports\"\n[batch]\nmax_rows = 10\n",
        )?;
        let c = resolve(
            file,
            &env(&[
                ("DMARCFLOW_CLICKHOUSE_URL", "http://env:8123"),
                ("DMARCFLOW_CLICKHOUSE_PASSWORD", "s3cret"),
                ("DMARCFLOW_BATCH_MAX_ROWS", "50"),
            ]),
        )?;
        let StoreConfig::ClickHouse(ch) = c.store else {
            bail!("expected ClickHouse");
        };
        assert_eq!(
            (ch.url.as_str(), ch.database.as_str()),
            ("http://env:8123", "reports")
        );
        assert_eq!(ch.password.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(c.batch.max_rows, 50);
        assert_eq!(ch.retention_days, None, "retention is off by default");
        assert!(
            !format!("{ch:?}").contains("s3cret"),
            "password in Debug output"
        );
        Ok(())
    }

    #[test]
    fn kafka_linger_from_file_or_environment() -> Result<()> {
        let file = || parse("[kafka]\nbrokers = \"k:9092\"\nlinger_ms = 7\n");
        let linger = |c: Config| c.kafka.map(|k| k.linger_ms);
        assert_eq!(linger(resolve(file()?, &env(&[]))?), Some(7));
        let vars = [("DMARCFLOW_KAFKA_LINGER_MS", "3")];
        assert_eq!(linger(resolve(file()?, &env(&vars))?), Some(3));
        let bad = [("DMARCFLOW_KAFKA_LINGER_MS", "soon")];
        assert!(resolve(file()?, &env(&bad)).is_err());
        Ok(())
    }

    #[test]
    fn retention_from_file_or_environment() -> Result<()> {
        let file = parse("[clickhouse]\nurl = \"http://h:8123\"\nretention_days = 400\n")?;
        let StoreConfig::ClickHouse(ch) = resolve(file, &env(&[]))?.store else {
            bail!("expected ClickHouse");
        };
        assert_eq!(ch.retention_days, Some(400));
        let file = parse("[clickhouse]\nurl = \"http://h:8123\"\nretention_days = 400\n")?;
        let vars = env(&[("DMARCFLOW_CLICKHOUSE_RETENTION_DAYS", "30")]);
        let StoreConfig::ClickHouse(ch) = resolve(file, &vars)?.store else {
            bail!("expected ClickHouse");
        };
        assert_eq!(ch.retention_days, Some(30));
        Ok(())
    }

    #[test]
    fn memory_budget_from_file_or_environment() -> Result<()> {
        let c = resolve(FileConfig::default(), &env(&[]))?;
        assert_eq!(c.memory_budget, 512 << 20);
        let file = parse("[limits]\nmemory_budget = \"96MiB\"\n")?;
        assert_eq!(resolve(file, &env(&[]))?.memory_budget, 96 << 20);
        let file = parse("[limits]\nmemory_budget = 1000000\n")?;
        assert_eq!(resolve(file, &env(&[]))?.memory_budget, 1_000_000);
        let c = resolve(
            FileConfig::default(),
            &env(&[("DMARCFLOW_MEMORY_BUDGET", "2 GiB")]),
        )?;
        assert_eq!(c.memory_budget, 2 << 30);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999GiB").is_err());
        Ok(())
    }

    #[test]
    fn password_only_from_env_or_file() -> Result<()> {
        assert!(parse("[clickhouse]\npassword = \"x\"\n").is_err());
        assert!(parse("[clickhouse]\nurll = \"typo\"\n").is_err());
        let dir = tempfile::tempdir()?;
        let secret = dir.path().join("pw");
        std::fs::write(&secret, "from-file\n")?;
        let file = parse(&format!(
            "[clickhouse]\nurl = \"http://h:8123\"\npassword_file = {:?}\n",
            secret.display().to_string()
        ))?;
        let StoreConfig::ClickHouse(ch) = resolve(file, &env(&[]))?.store else {
            bail!("expected ClickHouse");
        };
        assert_eq!(ch.password.as_ref().map(Secret::expose), Some("from-file"));
        Ok(())
    }
}
