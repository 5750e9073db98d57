//! FHIR `AuditEvent` search over the audit store, on `libs/fhir` (ADR 23): `patient`, `agent`
//! (user id), `date` (with prefixes, partial dates or instants; repeatable), `outcome` (0, 4,
//! 8), `_id`, `_sort` (`date` or `-date`, the default), paged by `_count`/`_offset` with
//! absolute links and the true total. Never cut short silently.
use super::audit::audit_event;
use super::support::{patient_id, Caller};
use crate::app::{audited, refuse};
use crate::store::{self, AuditFilter};
use actix_web::{get, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveTime, Utc};
use tessera_edge::problem::{ApiError, Flavour};
use tessera_fhir::date::Prefix;
use tessera_fhir::{bundle, DateParam, Search};

const SUPPORTED: &[&str] = &["patient", "agent", "date", "outcome", "_id", "_sort"];

fn bad(detail: &str) -> ApiError {
    ApiError::new(tessera_edge::codes::SEARCH_INVALID, detail).with_flavour(Flavour::Fhir)
}

fn midnight(d: chrono::NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// Narrows `[from, to)` by one `date` value.
fn narrow(f: &mut AuditFilter, value: &str) -> Result<(), ApiError> {
    let (from, to) = if let Some(d) = DateParam::parse(value) {
        let (start, end) = (midnight(d.start), midnight(d.end));
        match d.prefix {
            Prefix::Eq | Prefix::Ap => (Some(start), Some(end)),
            Prefix::Ge => (Some(start), None),
            Prefix::Gt | Prefix::Sa => (Some(end), None),
            Prefix::Lt | Prefix::Eb => (None, Some(start)),
            Prefix::Le => (None, Some(end)),
            Prefix::Ne => return Err(bad("date does not take ne")),
        }
    } else {
        // Split on characters, not bytes: a value may start with any character.
        let (prefix, instant) = value.get(..2).zip(value.get(2..)).unwrap_or(("", value));
        let t = DateTime::parse_from_rfc3339(instant)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| bad("date as [ge|gt|le|lt|eq]YYYY[-MM[-DD]] or an RFC 3339 instant"))?;
        match prefix {
            "ge" | "gt" => (Some(t), None),
            "le" | "lt" => (None, Some(t)),
            _ => return Err(bad("an instant takes ge, gt, le or lt")),
        }
    };
    if let Some(x) = from {
        f.from = Some(f.from.map_or(x, |y| y.max(x)));
    }
    if let Some(x) = to {
        f.to = Some(f.to.map_or(x, |y| y.min(x)));
    }
    Ok(())
}

fn filter(s: &Search) -> Result<AuditFilter, ApiError> {
    let mut f = AuditFilter {
        patient_id: None,
        user_id: s.get("agent").map(str::to_owned),
        from: None,
        to: None,
        outcome: None,
        limit: s.count as i64,
        event_id: match s.ids().as_slice() {
            [] => None,
            [one] => Some((*one).to_owned()),
            _ => return Err(bad("one _id at a time")),
        },
        oldest_first: false,
        offset: s.offset as i64,
    };
    if let Some(p) = s.get("patient") {
        f.patient_id = Some(
            patient_id(p.trim_start_matches("Patient/"))
                .map_err(|e| e.with_flavour(Flavour::Fhir))?,
        );
    }
    for d in s.all("date") {
        narrow(&mut f, d)?;
    }
    if let Some(o) = s.get("outcome") {
        f.outcome = Some(
            match o {
                "0" => "permit",
                "4" => "deny",
                "8" => "error",
                _ => {
                    return Err(bad(
                        "outcome is 0 (success), 4 (minor failure) or 8 (serious failure)",
                    ))
                }
            }
            .into(),
        );
    }
    // `_sort=date` is oldest first; newest first otherwise (`-date`).
    if let Some((_, descending)) = s.sort(&["date"])?.first() {
        f.oldest_first = !descending;
    }
    Ok(f)
}

#[utoipa::path(
    tag = "fhir",
    params(
        ("patient" = Option<String>, Query, description = "Patient/<id> or <id>"),
        ("agent" = Option<String>, Query, description = "The user"),
        ("date" = Option<String>, Query, description = "With prefixes (ge, le, gt, lt, eq)"),
        ("outcome" = Option<String>, Query, description = "0, 4 or 8"),
        ("_id" = Option<String>, Query, description = "An event id"),
        ("_sort" = Option<String>, Query, description = "date or -date"),
        ("_count" = Option<i64>, Query, description = "Page size"),
        ("_offset" = Option<i64>, Query, description = "Page start")
    ),
    responses((status = 200, description = "A searchset Bundle of AuditEvents", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/AuditEvent")]
pub async fn search(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let prefer = req.headers().get("Prefer").and_then(|v| v.to_str().ok());
    let parsed = Search::parse(req.query_string(), prefer, SUPPORTED)
        .and_then(|s| filter(&s).map(|f| (s, f)));
    let (search, f) = match parsed {
        Ok(x) => x,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let patient = f.patient_id;
    let (rows, total) = audited(&auth, patient, move |txn| {
        Box::pin(async move {
            let total = store::count_audit(txn, &f).await?;
            let rows = if f.limit > 0 {
                store::search_audit(txn, &f).await?
            } else {
                vec![]
            };
            Ok((rows, total))
        })
    })
    .await
    .map_err(|e| e.with_flavour(Flavour::Fhir))?;
    let base = tessera_fhir::base_url(&req, None);
    let entries = rows
        .iter()
        .map(|r| bundle::matched(&base, "AuditEvent", &r.event_id, audit_event(r)))
        .collect();
    let total = usize::try_from(total).unwrap_or(0);
    Ok(HttpResponse::Ok()
        .content_type(tessera_fhir::FHIR_JSON)
        .body(tessera_fhir::searchset(&base, "AuditEvent", &search, total, entries).to_string()))
}

/// `GET /fhir/metadata`: what this service's FHIR API does.
#[utoipa::path(
    tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera access",
    published: "2026-11-26",
    resources: &[tessera_fhir::Resource {
        kind: "AuditEvent",
        profile: None,
        interactions: &["search-type"],
        search: &[
            ("patient", "reference"),
            ("agent", "reference"),
            ("date", "date"),
            ("outcome", "token"),
            ("_id", "token"),
            ("_sort", "string"),
        ],
        operations: &[],
    }],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_that_is_not_ascii_is_refused_not_a_panic() {
        for v in [
            "0\u{a0}",
            "\u{a0}",
            "é2026",
            "ge\u{a0}2026-01-01T00:00:00Z",
            "x",
        ] {
            let mut f = AuditFilter::default();
            assert!(narrow(&mut f, v).is_err(), "{v:?}");
        }
        let mut f = AuditFilter::default();
        assert!(narrow(&mut f, "ge2026-01-01T00:00:00Z").is_ok());
        assert!(f.from.is_some() && f.to.is_none());
    }
}
