//! FHIR date search parameters: an optional prefix (`eq` `ne` `gt` `lt` `ge` `le` `sa` `eb`
//! `ap`) and a date of year, month or day precision (`1970`, `1970-03`, `1970-03-14`). A
//! partial date is the range it covers; the prefix says how a value must relate to it.
use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

/// One date parameter value: the prefix and the range `[start, end)` the date covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateParam {
    pub prefix: Prefix,
    pub start: NaiveDate,
    /// Exclusive.
    pub end: NaiveDate,
}

/// A bound on the searched date: `(date, inclusive)`.
pub type Bound = Option<(NaiveDate, bool)>;

impl DateParam {
    /// `None` for anything that is not a prefix (optional) and a date of 4, 7 or 10 characters.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (prefix, rest) = match s.get(..2) {
            Some("eq") => (Prefix::Eq, &s[2..]),
            Some("ne") => (Prefix::Ne, &s[2..]),
            Some("gt") => (Prefix::Gt, &s[2..]),
            Some("lt") => (Prefix::Lt, &s[2..]),
            Some("ge") => (Prefix::Ge, &s[2..]),
            Some("le") => (Prefix::Le, &s[2..]),
            Some("sa") => (Prefix::Sa, &s[2..]),
            Some("eb") => (Prefix::Eb, &s[2..]),
            Some("ap") => (Prefix::Ap, &s[2..]),
            _ => (Prefix::Eq, s),
        };
        let (start, end) = match rest.len() {
            4 => {
                let y: i32 = rest.parse().ok()?;
                (
                    NaiveDate::from_ymd_opt(y, 1, 1)?,
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)?,
                )
            }
            7 => {
                let start = NaiveDate::parse_from_str(&format!("{rest}-01"), "%Y-%m-%d").ok()?;
                let end = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)?
                };
                (start, end)
            }
            10 => {
                let d = NaiveDate::parse_from_str(rest, "%Y-%m-%d").ok()?;
                (d, d.succ_opt()?)
            }
            _ => return None,
        };
        Some(Self { prefix, start, end })
    }

    /// The range of matching days as `(from, to)` bounds, for a day-precision value such as a
    /// birth date; `None` for `ne` (which is not a range: see [`DateParam::matches`]). `ap`
    /// (approximately) is taken as the range itself.
    pub fn bounds(&self) -> Option<(Bound, Bound)> {
        let last = self.end.pred_opt()?;
        Some(match self.prefix {
            Prefix::Eq | Prefix::Ap => (Some((self.start, true)), Some((last, true))),
            Prefix::Ne => return None,
            Prefix::Gt | Prefix::Sa => (Some((last, false)), None),
            Prefix::Ge => (Some((self.start, true)), None),
            Prefix::Lt | Prefix::Eb => (None, Some((self.start, false))),
            Prefix::Le => (None, Some((last, true))),
        })
    }

    /// Whether day `d` matches.
    pub fn matches(&self, d: NaiveDate) -> bool {
        match self.bounds() {
            None => d < self.start || d >= self.end,
            Some((from, to)) => {
                from.is_none_or(|(f, inc)| if inc { d >= f } else { d > f })
                    && to.is_none_or(|(t, inc)| if inc { d <= t } else { d < t })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn partial_dates_cover_their_year_or_month() {
        let y = DateParam::parse("1970").unwrap_or_else(|| unreachable!());
        assert!(y.matches(d("1970-01-01")) && y.matches(d("1970-12-31")));
        assert!(!y.matches(d("1971-01-01")));
        let m = DateParam::parse("1970-12").unwrap_or_else(|| unreachable!());
        assert!(m.matches(d("1970-12-31")) && !m.matches(d("1971-01-01")));
    }

    #[test]
    fn prefixes_bound_the_range() {
        let p = |s: &str| DateParam::parse(s).unwrap_or_else(|| unreachable!());
        assert!(p("ge1970-03-14").matches(d("1970-03-14")));
        assert!(!p("gt1970-03-14").matches(d("1970-03-14")));
        assert!(p("gt1970-03").matches(d("1970-04-01")));
        assert!(!p("gt1970-03").matches(d("1970-03-31")));
        assert!(p("le1970").matches(d("1970-12-31")));
        assert!(!p("lt1970").matches(d("1970-01-01")));
        assert!(p("ne1970-03-14").matches(d("1970-03-15")));
        assert!(!p("ne1970-03-14").matches(d("1970-03-14")));
        assert!(p("eq1970-03-14").matches(d("1970-03-14")));
    }

    #[test]
    fn anything_else_is_not_a_date() {
        for s in [
            "",
            "19700",
            "1970-3-14",
            "xx1970",
            "1970-02-30",
            "ge",
            "1970-13",
        ] {
            assert!(DateParam::parse(s).is_none(), "{s}");
        }
    }
}
