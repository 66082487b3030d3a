//! `dmarcflow reports`: the scheduled reports due on a day (`[reports]`),
//! rendered (`dmarcflow_digest`) and mailed as attachments through the
//! alerts' relay (`[alerts.email]`). Each is sent once: what was sent is
//! recorded in the store's alert state (rule `report_sent`), so cron
//! running it twice, or the services' schedule, sends nothing again.

use anyhow::{Context, Result};
use dmarcflow_alerts::email::{send_mail, Attachment};
use dmarcflow_alerts::state::{self, State, Status};
use dmarcflow_digest::schedule::due;
use dmarcflow_store::summary::{day, Scope};
use dmarcflow_store::Store;

use crate::config::Config;

#[derive(clap::Args)]
pub struct ReportsArgs {
    /// The day the reports are due on, YYYY-MM-DD (default today, UTC).
    #[arg(long)]
    pub day: Option<String>,
}

/// Sends what is due on `today` and was not sent yet; the subjects sent.
pub async fn send_due(
    store: &mut Store,
    config: &Config,
    today: &str,
    now: i64,
) -> Result<Vec<String>> {
    let Some(reports) = &config.reports else {
        return Ok(Vec::new());
    };
    let email = config
        .alerts
        .as_ref()
        .and_then(|a| a.email.clone())
        .context("[reports] mails through [alerts.email], which is not configured")?;
    let sent_before = state::load(store).await?;
    let mut sent = Vec::new();
    let catalogue = &config.catalogue;
    for schedule in &reports.schedule {
        let Some((from, to)) = due(today, schedule.every) else {
            continue;
        };
        let key = format!(
            "report_sent|{}|{}|{from}",
            schedule.domain,
            schedule.every.as_str()
        );
        if sent_before.contains_key(&key) {
            continue;
        }
        let scope = Scope::new(&schedule.domain, &from, &to).map_err(anyhow::Error::msg)?;
        let owner = dmarcflow_digest::Owner {
            enforcement: &config.enforcement,
            catalogue,
        };
        let digest = dmarcflow_digest::gather(store, &scope, owner).await?;
        let (bytes, kind, extension) = if reports.pdf {
            (
                dmarcflow_digest::pdf::render(&digest),
                "application/pdf",
                "pdf",
            )
        } else {
            (
                dmarcflow_digest::html::render(&digest).into_bytes(),
                "text/html; charset=utf-8",
                "html",
            )
        };
        let subject = format!(
            "[dmarcflow] {} DMARC report for {} ({from} to {to})",
            schedule.every.as_str(),
            schedule.domain
        );
        let body = format!(
            "DMARC report for {} from {from} to {to}: {} messages, {:.1}% passing DMARC, {} failing.\n\nThe report is attached.\n\n-- \ndmarcflow\n",
            schedule.domain,
            digest.messages(),
            digest.pass_rate(),
            digest.fail()
        );
        let mut to_whom = email.clone();
        if !schedule.to.is_empty() {
            to_whom.to = schedule.to.clone();
        }
        let attachment = Attachment {
            name: format!("dmarc-{}-{from}-{to}.{extension}", schedule.domain),
            content_type: kind.to_owned(),
            bytes,
        };
        send_mail(&to_whom, &subject, body, Some(attachment)).await?;
        let record = State {
            key,
            rule: "report_sent".into(),
            domain: schedule.domain.clone(),
            subject: from.clone(),
            status: Status::Resolved,
            message: subject.clone(),
            since: now,
            notified_at: now,
        };
        let version = dmarcflow_store::version_now();
        state::save(store, &[record], version).await?;
        sent.push(subject);
    }
    Ok(sent)
}

pub fn run(config: &Config, args: &ReportsArgs) -> Result<()> {
    let now = dmarcflow_ingest::received_now();
    let today = args.day.clone().unwrap_or_else(|| day(now));
    config.reports.as_ref().context("no [reports] configured")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sent = runtime.block_on(async {
        let mut store = Store::open(&config.store).await?;
        send_due(&mut store, config, &today, now).await
    })?;
    for subject in &sent {
        println!("sent\t{subject}");
    }
    eprintln!("reports due on {today}: {} sent", sent.len());
    Ok(())
}
