//! Waiting-list arithmetic over incomplete pathways, at a census date: the month-end census,
//! the 92% standard (incomplete pathways waiting ≤ 18 weeks, unadjusted), and the breach
//! forecast (who breaches in the next N weeks if not treated). No I/O.
use crate::{breach_date, days_waited, is_breach};
use chrono::{Datelike, Duration, NaiveDate};

/// The standard: at least 92% of incomplete pathways within 18 weeks at month end.
pub const STANDARD_PERCENT: f64 = 92.0;

/// The last day of `date`'s month: the RTT census date.
pub fn month_end(date: NaiveDate) -> NaiveDate {
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .map(|first| first - Duration::days(1))
        .unwrap_or(date)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standard {
    pub incomplete: usize,
    pub within_18_weeks: usize,
    /// 100 when there are no incomplete pathways.
    pub percent_within: f64,
    pub met: bool,
}

/// The 92% standard over the clock starts of a list's incomplete pathways at `census`.
pub fn standard<I: IntoIterator<Item = NaiveDate>>(starts: I, census: NaiveDate) -> Standard {
    let (mut incomplete, mut within) = (0usize, 0usize);
    for s in starts {
        incomplete += 1;
        if !is_breach(days_waited(s, census)) {
            within += 1;
        }
    }
    let percent_within = if incomplete == 0 {
        100.0
    } else {
        within as f64 * 100.0 / incomplete as f64
    };
    Standard {
        incomplete,
        within_18_weeks: within,
        percent_within,
        met: percent_within >= STANDARD_PERCENT,
    }
}

/// When a pathway whose clock started on `start`, untreated, breaches if that falls after
/// `census` and within the next `weeks` weeks.
pub fn breaches_within(start: NaiveDate, census: NaiveDate, weeks: i64) -> Option<NaiveDate> {
    let b = breach_date(start);
    (b > census && b <= census + Duration::days(7 * weeks)).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn month_ends() {
        assert_eq!(month_end(d("2025-01-15")), d("2025-01-31"));
        assert_eq!(month_end(d("2024-02-10")), d("2024-02-29"));
        assert_eq!(month_end(d("2025-02-28")), d("2025-02-28"));
        assert_eq!(month_end(d("2025-12-01")), d("2025-12-31"));
    }

    #[test]
    fn the_92_percent_standard() {
        let census = d("2025-05-31");
        // Within: started 126 days or fewer before the census. Breach: 127 or more.
        let within = d("2025-01-25"); // 126 days
        let breach = d("2025-01-24"); // 127 days
        let s = standard(
            std::iter::repeat_n(within, 92).chain(std::iter::repeat_n(breach, 8)),
            census,
        );
        assert_eq!((s.incomplete, s.within_18_weeks), (100, 92));
        assert!(s.met);
        let s = standard(
            std::iter::repeat_n(within, 91).chain(std::iter::repeat_n(breach, 9)),
            census,
        );
        assert!(!s.met, "{s:?}");
        assert!((s.percent_within - 91.0).abs() < 1e-9);
        let empty = standard(std::iter::empty(), census);
        assert!(empty.met && empty.incomplete == 0);
    }

    #[test]
    fn the_breach_forecast() {
        let census = d("2025-05-01");
        // Breaches on start + 127 days.
        assert_eq!(
            breaches_within(d("2025-01-01"), census, 2),
            Some(d("2025-05-08"))
        );
        assert_eq!(
            breaches_within(d("2025-01-01"), census, 1),
            Some(d("2025-05-08"))
        );
        assert_eq!(
            breaches_within(d("2025-01-02"), census, 1),
            None,
            "breaches on day 8"
        );
        assert_eq!(
            breaches_within(d("2024-12-01"), census, 4),
            None,
            "already in breach"
        );
        assert_eq!(
            breaches_within(d("2025-03-01"), census, 4),
            None,
            "not within 4 weeks"
        );
    }
}
