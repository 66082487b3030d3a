//! `[reports]`: scheduled reports mailed as attachments through the
//! alerts' SMTP relay (`[alerts.email]`).

use anyhow::Result;
use dmarcflow_digest::schedule::Every;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsSection {
    /// `pdf` (default) or `html`.
    pub format: Option<String>,
    #[serde(default)]
    pub schedule: Vec<Schedule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub domain: String,
    pub every: Every,
    /// Recipients (default: `[alerts.email] to`).
    #[serde(default)]
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reports {
    pub pdf: bool,
    pub schedule: Vec<Schedule>,
}

pub fn reports(section: Option<ReportsSection>) -> Result<Option<Reports>> {
    let Some(section) = section else {
        return Ok(None);
    };
    let pdf = match section.format.as_deref() {
        None | Some("pdf") => true,
        Some("html") => false,
        Some(other) => anyhow::bail!("reports.format: {other:?} is not \"pdf\" or \"html\""),
    };
    Ok(Some(Reports {
        pdf,
        schedule: section.schedule,
    }))
}
