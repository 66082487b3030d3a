//! The times the stores can hold. ClickHouse `DateTime` is seconds since
//! 1970 in an unsigned 32-bit number (up to 2106-02-07); SQLite holds any
//! integer, but the two stores keep the same values. A report keeps a time
//! outside this range verbatim and says so in its warnings; the stores then
//! write the nearest time they can hold, never a wrapped one.

use std::ops::RangeInclusive;

/// Unix seconds the stores can hold.
pub const STORABLE_SECONDS: RangeInclusive<i64> = 0..=u32::MAX as i64;

/// The warning for a time the stores cannot hold, if `seconds` is one.
pub fn unstorable_time(field: &str, seconds: i64) -> Option<String> {
    (!STORABLE_SECONDS.contains(&seconds)).then(|| {
        format!(
            "{field} {seconds} is outside 1970-01-01..2106-02-07, which the stores can hold: \
kept here, stored as the nearest time they can hold"
        )
    })
}

/// `seconds` brought into [`STORABLE_SECONDS`] (for a store's column).
pub fn storable(seconds: i64) -> u32 {
    u32::try_from(seconds.max(0)).unwrap_or(u32::MAX)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm): what the parsers' RFC 3339 times and the stores' day
/// arithmetic share.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range() {
        assert!(unstorable_time("begin", 0).is_none());
        assert!(unstorable_time("begin", 4_294_967_295).is_none());
        assert!(unstorable_time("begin", -1).is_some());
        assert!(unstorable_time("end", 4_294_967_296).is_some());
        assert_eq!(storable(-5), 0);
        assert_eq!(storable(1 << 40), u32::MAX);
    }
}
