//! When a session template runs: every week, every other week from a first date, or the nth
//! weekday of each month — the dates it gives between two dates, before bank holidays are
//! taken out (by the store, which holds the trust's list).
use super::DomainError;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    fn chrono(self) -> chrono::Weekday {
        match self {
            Weekday::Mon => chrono::Weekday::Mon,
            Weekday::Tue => chrono::Weekday::Tue,
            Weekday::Wed => chrono::Weekday::Wed,
            Weekday::Thu => chrono::Weekday::Thu,
            Weekday::Fri => chrono::Weekday::Fri,
            Weekday::Sat => chrono::Weekday::Sat,
            Weekday::Sun => chrono::Weekday::Sun,
        }
    }
}

/// A recurring pattern, as stored (JSON) and as the API takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "every", rename_all = "lowercase")]
pub enum Pattern {
    /// Every week on `weekday`.
    Week { weekday: Weekday },
    /// Every other week on `weekday`, counting from `first` (which must be that weekday).
    Fortnight { weekday: Weekday, first: NaiveDate },
    /// The `nth` (1–4, or 5 where the month has one) `weekday` of every month.
    Month { weekday: Weekday, nth: u8 },
}

impl Pattern {
    /// Checks what serde cannot: a fortnight's first date falls on its weekday, `nth` is 1–5.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self {
            Pattern::Fortnight { weekday, first } if first.weekday() != weekday.chrono() => {
                Err(DomainError::invalid(
                    "pattern.first",
                    "weekday",
                    "a fortnightly pattern's first date falls on its weekday",
                ))
            }
            Pattern::Month { nth, .. } if !(1..=5).contains(nth) => Err(DomainError::invalid(
                "pattern.nth",
                "range",
                "the nth weekday of a month is 1 to 5",
            )),
            _ => Ok(()),
        }
    }

    /// Whether the pattern runs on `d`.
    pub fn runs_on(&self, d: NaiveDate) -> bool {
        match self {
            Pattern::Week { weekday } => d.weekday() == weekday.chrono(),
            Pattern::Fortnight { weekday, first } => {
                d.weekday() == weekday.chrono()
                    && d >= *first
                    && ((d - *first).num_days() / 7) % 2 == 0
            }
            Pattern::Month { weekday, nth } => {
                d.weekday() == weekday.chrono() && (d.day0() / 7) + 1 == u32::from(*nth)
            }
        }
    }

    /// The dates in `[from, to]` the pattern runs on, in order.
    pub fn dates(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut d = from;
        while d <= to {
            if self.runs_on(d) {
                out.push(d);
            }
            d += Duration::days(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weekly_fortnightly_and_nth_weekday_give_their_dates() {
        let weekly = Pattern::Week {
            weekday: Weekday::Tue,
        };
        assert_eq!(
            weekly.dates(d("2026-03-01"), d("2026-03-20")),
            vec![d("2026-03-03"), d("2026-03-10"), d("2026-03-17")]
        );
        let fortnightly = Pattern::Fortnight {
            weekday: Weekday::Tue,
            first: d("2026-03-10"),
        };
        assert_eq!(
            fortnightly.dates(d("2026-03-01"), d("2026-04-10")),
            vec![d("2026-03-10"), d("2026-03-24"), d("2026-04-07")]
        );
        let second_wednesday = Pattern::Month {
            weekday: Weekday::Wed,
            nth: 2,
        };
        assert_eq!(
            second_wednesday.dates(d("2026-01-01"), d("2026-03-31")),
            vec![d("2026-01-14"), d("2026-02-11"), d("2026-03-11")]
        );
        // A fifth Friday only where the month has one.
        let fifth_friday = Pattern::Month {
            weekday: Weekday::Fri,
            nth: 5,
        };
        assert_eq!(
            fifth_friday.dates(d("2026-01-01"), d("2026-03-31")),
            vec![d("2026-01-30")]
        );
    }

    #[test]
    fn a_fortnight_must_start_on_its_weekday_and_nth_is_one_to_five() {
        let bad = Pattern::Fortnight {
            weekday: Weekday::Mon,
            first: d("2026-03-10"),
        };
        assert!(bad.validate().is_err());
        assert!(Pattern::Month {
            weekday: Weekday::Mon,
            nth: 0
        }
        .validate()
        .is_err());
        assert!(Pattern::Month {
            weekday: Weekday::Mon,
            nth: 6
        }
        .validate()
        .is_err());
        assert!(Pattern::Week {
            weekday: Weekday::Sun
        }
        .validate()
        .is_ok());
    }
}
