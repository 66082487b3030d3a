//! `[posture]`: how often every domain is re-checked, which domains besides
//! those in reports, which DKIM selectors besides those reports show, and
//! the bounds of each check.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Between two rounds (`interval_hours`, default 24).
    pub interval: Duration,
    /// Checked besides the domains in reports.
    pub domains: Vec<String>,
    /// Checked for every domain besides the selectors reports show.
    pub dkim_selectors: Vec<String>,
    /// How far back the reports name the domains and selectors to check.
    pub report_days: u32,
    /// Domains checked at once.
    pub concurrency: usize,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(24 * 3600),
            domains: Vec::new(),
            dkim_selectors: Vec::new(),
            report_days: 30,
            concurrency: 16,
        }
    }
}
