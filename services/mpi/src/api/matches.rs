//! `POST /patients/$match` over JSON: scored, explained candidates for what a caller knows
//! of a person (FHIR's `$match` shares [`probe`]).
use super::auth::Caller;
use super::patients::parse_body;
use super::problem::{ApiError, Flavour};
use super::usecases;
use super::views::{CandidateView, Candidates, MatchCandidate, PatientView};
use crate::domain::FieldError;
use actix_web::{post, web, HttpResponse};
use tessera_nhs::NhsNumber;

/// What `$match` accepts: any of the fields, none required (but something to match on).
#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MatchInput {
    pub nhs_number: Option<String>,
    pub given: Option<String>,
    pub family: Option<String>,
    pub birth_date: Option<String>,
    pub administrative_sex: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub limit: Option<usize>,
}

pub fn probe(
    nhs_number: Option<&str>,
    given: Option<String>,
    family: Option<String>,
    birth_date: Option<&str>,
    sex: Option<String>,
    address: Option<String>,
    postcode: Option<String>,
) -> Result<crate::domain::matching::Probe, ApiError> {
    let field = |f: &str, code: &str, m: String| {
        super::problem::validation(vec![FieldError {
            field: f.into(),
            code: code.into(),
            message: m,
        }])
    };
    let nhs_number = match nhs_number.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(n) => Some(
            NhsNumber::parse(n)
                .map_err(|e| field("nhs_number", e.code(), e.to_string()))?
                .as_str()
                .to_string(),
        ),
    };
    let birth_date = match birth_date.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| field("birth_date", "date", "a date as YYYY-MM-DD".into()))?,
        ),
    };
    let p = crate::domain::matching::Probe {
        given,
        family,
        birth_date,
        sex,
        address,
        postcode,
        nhs_number,
    };
    if p.is_empty() {
        return Err(ApiError::new(
            crate::api::errors::MATCH_TOO_LITTLE,
            "give at least an NHS number, a family name or a date of birth",
        ));
    }
    Ok(p)
}

/// `POST /patients/$match`: scored, explained candidates in the caller's trust.
#[utoipa::path(
    tag = "patients",
    request_body(content = MatchInput),
    responses(
        (status = 200, description = "Scored, explained candidates", body = Candidates)
    )
)]
#[post("/patients/$match")]
pub async fn match_patients(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let parsed = parse_body::<MatchInput>(&body).and_then(|m| {
        let limit = m.limit.unwrap_or(10).clamp(1, 50);
        probe(
            m.nhs_number.as_deref(),
            m.given,
            m.family,
            m.birth_date.as_deref(),
            m.administrative_sex,
            m.address,
            m.postcode,
        )
        .map(|p| (p, limit))
    });
    let (probe, limit) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let candidates = usecases::match_patient(&auth, probe, limit).await?;
    let candidates: Vec<MatchCandidate> = candidates
        .iter()
        .map(|c| MatchCandidate {
            candidate: CandidateView::from(c),
            patient: PatientView::from(&c.patient),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Candidates {
        count: candidates.len(),
        candidates,
    }))
}
