//! Calendar dates from and to Unix seconds, for certificate validity (and
//! the dates findings print), without a date crate: the proleptic
//! Gregorian calendar in UTC, as X.509 and the findings use it.

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a Unix time (its inverse, `civil_from_days`).
pub fn ymd(seconds: i64) -> String {
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_leap_days_and_eras() {
        assert_eq!(ymd(0), "1970-01-01");
        assert_eq!(ymd(1_796_466_600), "2026-12-05");
        assert_eq!(ymd(951_782_400), "2000-02-29");
        assert_eq!(ymd(-86_400), "1969-12-31");
        for days in [-1i64, 0, 59, 11_016, 20_000, 2_932_896] {
            let text = ymd(days * 86_400);
            let parts: Vec<i64> = text.split('-').map(|p| p.parse().unwrap_or(0)).collect();
            assert_eq!(
                days_from_civil(parts[0], parts[1], parts[2]),
                days,
                "{text}"
            );
        }
    }
}
