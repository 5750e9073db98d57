//! A FHIR search's query, checked against what the endpoint supports. Strict by default: an
//! unknown parameter or a bad `_count` is a 400 `OperationOutcome`, so a client never takes a
//! partial filter for the whole answer. Under `Prefer: handling=lenient` they are ignored, and
//! the Bundle's `self` link shows only what was applied (FHIR R4 §3.1.1.4).
use tessera_edge::problem::{ApiError, Flavour};

/// Page size when the client names none.
pub const DEFAULT_COUNT: usize = 50;
/// The furthest a page may start: beyond any real result set, and within every store's
/// integer range (a larger one reached SQL as a negative number).
pub const MAX_OFFSET: usize = 100_000_000;

/// The largest page; a larger `_count` is served as this (the `next` link goes on).
pub const MAX_COUNT: usize = 100;
/// Parameters every search takes.
const COMMON: &[&str] = &["_count", "_offset", "_format"];

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

fn refuse(code: &str, detail: String) -> ApiError {
    ApiError::new(actix_web::http::StatusCode::BAD_REQUEST, code, detail)
        .with_flavour(Flavour::Fhir)
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
                            "search.paging",
                            format!("_offset is at most {MAX_OFFSET}"),
                        ))
                    }
                    Err(_) if lenient => s.ignored.push(name),
                    Err(_) => {
                        return Err(refuse(
                            "search.paging",
                            format!("{name} must be a whole number, not {value:?}"),
                        ))
                    }
                },
                "_format" => {}
                _ if supported.contains(&name.as_str()) => s.params.push((name, value)),
                _ if lenient => s.ignored.push(name),
                _ => {
                    return Err(refuse(
                        "search.unknown-parameter",
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
