//! A FHIR search's query, checked against what the endpoint supports. Strict by default: an
//! unknown parameter or a bad `_count` is a 400 `OperationOutcome`, so a client never takes a
//! partial filter for the whole answer. Under `Prefer: handling=lenient` they are ignored, and
//! the Bundle's `self` link shows only what was applied (FHIR R4 §3.1.1.4).
use tessera_edge::codes::{self, ErrorCode};
use tessera_edge::problem::{ApiError, Flavour};

/// Page size when the client names none.
pub const DEFAULT_COUNT: usize = 50;
/// The furthest a page may start: beyond any real result set, and within every store's
/// integer range (a larger one reached SQL as a negative number).
pub const MAX_OFFSET: usize = 100_000_000;

/// The largest page; a larger `_count` is served as this (the `next` link goes on).
pub const MAX_COUNT: usize = 100;
/// An instant, for `_lastUpdated`.
pub type Instant = chrono::DateTime<chrono::Utc>;

/// A range of instants `[from, to)`, either end open.
pub type Range = (Option<Instant>, Option<Instant>);

/// Parameters every search takes.
const COMMON: &[&str] = &["_count", "_offset", "_format"];

/// Whether `at` falls in a `_lastUpdated` range.
pub fn within(range: &Option<Range>, at: Instant) -> bool {
    range.is_none_or(|(from, to)| from.is_none_or(|f| at >= f) && to.is_none_or(|t| at < t))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The parameters the endpoint applies, as given (paging and `_format` aside).
    pub params: Vec<(String, String)>,
    /// Entries per page; 0 asks for the total only.
    pub count: usize,
    pub offset: usize,
    /// Parameters left out under `Prefer: handling=lenient`.
    pub ignored: Vec<String>,
}

fn refuse(code: ErrorCode, detail: String) -> ApiError {
    ApiError::new(code, detail).with_flavour(Flavour::Fhir)
}

/// Whether a `Prefer` header asks for lenient handling.
pub fn lenient(prefer: Option<&str>) -> bool {
    prefer.is_some_and(|p| {
        p.split(',')
            .any(|part| part.trim().eq_ignore_ascii_case("handling=lenient"))
    })
}

impl Search {
    /// Reads `query` (the raw query string). `supported`: the endpoint's own parameters.
    pub fn parse(query: &str, prefer: Option<&str>, supported: &[&str]) -> Result<Self, ApiError> {
        let lenient = lenient(prefer);
        let mut s = Search {
            params: vec![],
            count: DEFAULT_COUNT,
            offset: 0,
            ignored: vec![],
        };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (name, value) = (name.into_owned(), value.into_owned());
            match name.as_str() {
                "_count" | "_offset" => match value.trim().parse::<usize>() {
                    Ok(n) if name == "_count" => s.count = n.min(MAX_COUNT),
                    Ok(n) if n <= MAX_OFFSET => s.offset = n,
                    Ok(_) if lenient => s.ignored.push(name),
                    Ok(_) => {
                        return Err(refuse(
                            codes::SEARCH_PAGING,
                            format!("_offset is at most {MAX_OFFSET}"),
                        ))
                    }
                    Err(_) if lenient => s.ignored.push(name),
                    Err(_) => {
                        return Err(refuse(
                            codes::SEARCH_PAGING,
                            format!("{name} must be a whole number, not {value:?}"),
                        ))
                    }
                },
                "_format" => {}
                _ if supported.contains(&name.as_str()) => s.params.push((name, value)),
                _ if lenient => s.ignored.push(name),
                _ => {
                    return Err(refuse(
                        codes::SEARCH_UNKNOWN_PARAMETER,
                        format!(
                            "unsupported search parameter {name} (send Prefer: handling=lenient to have unknown parameters ignored); supported: {}",
                            supported.iter().chain(COMMON).copied().collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
            }
        }
        Ok(s)
    }

    /// The first value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of parameter `name` (a repeated parameter ANDs its values).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `_sort` as `(key, descending)` pairs in order (`_sort=-date,name`), each key one of
    /// `allowed`; empty when not given.
    pub fn sort(&self, allowed: &[&str]) -> Result<Vec<(String, bool)>, ApiError> {
        let mut out = Vec::new();
        for value in self.all("_sort") {
            for key in value.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                let (name, descending) = match key.strip_prefix('-') {
                    Some(k) => (k, true),
                    None => (key, false),
                };
                if !allowed.contains(&name) {
                    return Err(refuse(
                        codes::SEARCH_SORT,
                        format!("_sort takes {}", allowed.join(", ")),
                    ));
                }
                out.push((name.to_string(), descending));
            }
        }
        Ok(out)
    }

    /// `_id` values: a comma within one parameter is OR, so these are alternatives.
    pub fn ids(&self) -> Vec<&str> {
        self.all("_id")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `_lastUpdated` as a range of instants `[from, to)`, every value ANDed (`ge2026-01-01`,
    /// `lt2026-02`); `None` when not given.
    pub fn last_updated(&self) -> Result<Option<Range>, ApiError> {
        let mut range: Option<Range> = None;
        for value in self.all("_lastUpdated") {
            let d = crate::DateParam::parse(value).ok_or_else(|| {
                refuse(
                    codes::SEARCH_DATE,
                    "_lastUpdated as [eq|ge|gt|le|lt|sa|eb]YYYY[-MM[-DD]]".into(),
                )
            })?;
            let midnight = |day: chrono::NaiveDate| day.and_time(chrono::NaiveTime::MIN).and_utc();
            let (start, end) = (midnight(d.start), midnight(d.end));
            use crate::date::Prefix as P;
            let (from, to) = match d.prefix {
                P::Eq | P::Ap => (Some(start), Some(end)),
                P::Ge => (Some(start), None),
                P::Gt | P::Sa => (Some(end), None),
                P::Lt | P::Eb => (None, Some(start)),
                P::Le => (None, Some(end)),
                P::Ne => {
                    return Err(refuse(
                        codes::SEARCH_DATE,
                        "_lastUpdated does not take ne".into(),
                    ))
                }
            };
            let (f0, t0) = range.unwrap_or((None, None));
            range = Some((
                f0.max(from),
                match (t0, to) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
            ));
        }
        Ok(range)
    }

    /// This search's query string at `offset`: what `self`, `next` and `previous` link to.
    pub fn query_at(&self, offset: usize) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (n, v) in &self.params {
            q.append_pair(n, v);
        }
        q.append_pair("_count", &self.count.to_string());
        if offset > 0 {
            q.append_pair("_offset", &offset.to_string());
        }
        q.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_parameters_are_refused_unless_lenient() {
        let strict = Search::parse("family=Smith&colour=blue", None, &["family"]);
        assert!(strict.is_err_and(|e| e.code == "search.unknown-parameter" && e.status == 400));
        let lenient = Search::parse(
            "family=Smith&colour=blue&_count=x",
            Some("return=minimal, handling=lenient"),
            &["family"],
        );
        let s = lenient.unwrap_or_else(|_| unreachable!());
        assert_eq!(s.get("family"), Some("Smith"));
        assert_eq!(s.ignored, vec!["colour".to_string(), "_count".to_string()]);
        assert_eq!(s.count, DEFAULT_COUNT);
    }

    #[test]
    fn paging_is_read_and_capped() {
        let s = Search::parse("_count=0", None, &[]).unwrap_or_else(|_| unreachable!());
        assert_eq!(s.count, 0);
        let s =
            Search::parse("_count=5000&_offset=20", None, &[]).unwrap_or_else(|_| unreachable!());
        assert_eq!((s.count, s.offset), (MAX_COUNT, 20));
        assert!(Search::parse("_count=-1", None, &[]).is_err_and(|e| e.code == "search.paging"));
        let huge = "_offset=9223372036854775808";
        assert!(Search::parse(huge, None, &[]).is_err_and(|e| e.code == "search.paging"));
        assert!(Search::parse("_offset=100000001", None, &[]).is_err());
        let sorted = Search::parse("_sort=-date,_lastUpdated", None, &["_sort"]);
        let sorted = sorted.unwrap_or_else(|_| unreachable!());
        let keys = sorted.sort(&["date", "_lastUpdated"]).unwrap_or_default();
        assert_eq!(
            keys,
            [("date".into(), true), ("_lastUpdated".into(), false)]
        );
        assert!(sorted
            .sort(&["date"])
            .is_err_and(|e| e.code == "search.sort"));
        let ids = Search::parse("_id=a,b&_id=c", None, &["_id"]).unwrap_or_else(|_| unreachable!());
        assert_eq!(ids.ids(), ["a", "b", "c"]);
        let lu = Search::parse(
            "_lastUpdated=ge2026-01&_lastUpdated=lt2026-02-10",
            None,
            &["_lastUpdated"],
        );
        let range = lu
            .unwrap_or_else(|_| unreachable!())
            .last_updated()
            .unwrap_or_default();
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.to_utc())
                .unwrap_or_default()
        };
        assert!(within(&range, at("2026-01-01T00:00:00Z")));
        assert!(within(&range, at("2026-02-09T23:59:59Z")));
        assert!(!within(&range, at("2026-02-10T00:00:00Z")));
        assert!(!within(&range, at("2025-12-31T23:59:59Z")));
        assert!(within(&None, at("1999-01-01T00:00:00Z")));
        let bad = Search::parse("_lastUpdated=yesterday", None, &["_lastUpdated"]);
        assert!(bad
            .unwrap_or_else(|_| unreachable!())
            .last_updated()
            .is_err());
        let lenient = Search::parse("_offset=100000001", Some("handling=lenient"), &[]);
        assert!(lenient.is_ok_and(|s| s.offset == 0 && s.ignored == ["_offset"]));
    }

    #[test]
    fn links_keep_the_applied_parameters_and_page() {
        let s = Search::parse("family=O%27Neil&_count=10&_format=json", None, &["family"])
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(s.query_at(0), "family=O%27Neil&_count=10");
        assert_eq!(s.query_at(20), "family=O%27Neil&_count=10&_offset=20");
    }
}
