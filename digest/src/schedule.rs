//! When a scheduled report is due, and the period it covers: daily, the
//! day before; weekly, on Mondays, the week (Monday to Sunday) before;
//! monthly, on the first, the month before.

use dmarcflow_store::summary::{day, day_seconds};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Daily,
    Weekly,
    Monthly,
}

impl Every {
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Daily => "daily",
            Every::Weekly => "weekly",
            Every::Monthly => "monthly",
        }
    }
}

/// The first and last day a report due on `today` covers, if one is due.
pub fn due(today: &str, every: Every) -> Option<(String, String)> {
    const DAY: i64 = 86_400;
    let t = day_seconds(today)?;
    let yesterday = day(t - DAY);
    match every {
        Every::Daily => Some((yesterday.clone(), yesterday)),
        Every::Weekly => {
            // 1970-01-01 was a Thursday: Monday is 0 here.
            let weekday = (t.div_euclid(DAY) + 3).rem_euclid(7);
            (weekday == 0).then(|| (day(t - 7 * DAY), yesterday))
        }
        Every::Monthly => today
            .ends_with("-01")
            .then(|| (format!("{}-01", &yesterday[..7]), yesterday)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(
            due("2024-03-01", Every::Daily),
            p("2024-02-29", "2024-02-29")
        );
        // 2024-03-04 was a Monday.
        assert_eq!(
            due("2024-03-04", Every::Weekly),
            p("2024-02-26", "2024-03-03")
        );
        assert_eq!(due("2024-03-05", Every::Weekly), None);
        assert_eq!(
            due("2024-03-01", Every::Monthly),
            p("2024-02-01", "2024-02-29")
        );
        assert_eq!(
            due("2024-01-01", Every::Monthly),
            p("2023-12-01", "2023-12-31")
        );
        assert_eq!(due("2024-03-02", Every::Monthly), None);
        assert_eq!(due("soon", Every::Daily), None);
    }
}
