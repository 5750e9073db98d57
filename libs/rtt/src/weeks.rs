//! Weeks waited by the national rule (§10.1.7 of the 2025 guidance): days from the clock
//! start to the census or stop date; band `>0–1` is 0–7 days, then band `>k–k+1` is days
//! 7k+1 … 7k+7; `>104` weeks is 729 days or more.
use chrono::{Duration, NaiveDate};

/// 18 weeks: a wait of this many days is within the standard; one more is a breach.
pub const BREACH_DAYS: i64 = 126;

pub fn days_waited(start: NaiveDate, end: NaiveDate) -> i64 {
    (end - start).num_days()
}

/// The week band's lower bound `k` (the band `>k–k+1` weeks), capped at 104 (`>104`).
pub fn week_band(days: i64) -> i64 {
    if days <= 7 {
        0
    } else {
        ((days - 1) / 7).min(104)
    }
}

pub fn is_breach(days: i64) -> bool {
    days > BREACH_DAYS
}

/// The first day on which a clock started on `start` and still running is in breach.
pub fn breach_date(start: NaiveDate) -> NaiveDate {
    start + Duration::days(BREACH_DAYS + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// The national worked examples (NHS_RULES.md §2, weeks waited).
    #[test]
    fn the_national_weeks_waited_table() {
        for (start, end, days, band, breach) in [
            ("2025-01-01", "2025-01-08", 7, 0, false),
            ("2025-01-01", "2025-01-09", 8, 1, false),
            ("2025-01-01", "2025-05-07", 126, 17, false),
            ("2025-01-01", "2025-05-08", 127, 18, true),
            ("2024-03-01", "2025-02-28", 364, 51, true),
        ] {
            let n = days_waited(d(start), d(end));
            assert_eq!(n, days, "{start} → {end}");
            assert_eq!(week_band(n), band, "{start} → {end}");
            assert_eq!(is_breach(n), breach, "{start} → {end}");
        }
        assert_eq!(week_band(0), 0);
        assert_eq!(week_band(728), 103);
        assert_eq!(week_band(729), 104);
        assert_eq!(week_band(5000), 104);
        assert_eq!(breach_date(d("2025-01-01")), d("2025-05-08"));
    }
}
