//! FHIR `Patient` search, `_history` and the CapabilityStatement, on `libs/fhir`: strict
//! parameters (or lenient on request), `birthdate` with prefixes and partial dates, pages with
//! absolute links and the true total (ADR 23).
use super::super::auth::Caller;
use super::super::problem::{ApiError, Flavour};
use super::super::usecases;
use super::map::{to_fhir, FHIR_JSON, LOCAL_NUMBER_SYSTEM, NHS_NUMBER_SYSTEM, PROFILE};
use crate::domain::{FieldError, Patient, PatientId};
use crate::store::SearchQuery;
use actix_web::{get, web, HttpRequest, HttpResponse};
use tessera_fhir::{bundle, DateParam};
use tessera_nhs::{NhsNumber, OdsCode};

/// When this CapabilityStatement last changed.
const PUBLISHED: &str = "2026-11-26";

const SEARCH_PARAMS: &[&str] = &[
    "identifier",
    "family",
    "given",
    "birthdate",
    "gender",
    "address-postalcode",
];

enum Lookup {
    Nhs(NhsNumber),
    Local(OdsCode, String),
    Demographic(SearchQuery),
}

fn invalid(field: &str, code: &str, message: &str) -> ApiError {
    super::super::problem::validation(vec![FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }])
}

fn lookup(s: &tessera_fhir::Search) -> Result<Lookup, ApiError> {
    if let Some(identifier) = s.get("identifier") {
        let (system, value) = identifier
            .split_once('|')
            .ok_or_else(|| ApiError::bad_request("identifier must be system|value"))?;
        if system == NHS_NUMBER_SYSTEM {
            return NhsNumber::parse(value)
                .map(Lookup::Nhs)
                .map_err(|e| invalid("nhs_number", e.code(), &e.to_string()));
        }
        if let Some(ods) = system.strip_prefix(LOCAL_NUMBER_SYSTEM) {
            let ods = OdsCode::parse(ods)
                .map_err(|_| ApiError::bad_request("the local-number system names no ODS code"))?;
            return Ok(Lookup::Local(ods, value.to_string()));
        }
        return Err(ApiError::bad_request(
            "identifier system must be the NHS number or a local-number system",
        ));
    }
    let mut q = SearchQuery {
        family: s
            .get("family")
            .filter(|f| !f.trim().is_empty())
            .map(str::to_owned),
        given: s
            .get("given")
            .filter(|g| !g.trim().is_empty())
            .map(str::to_owned),
        born_from: None,
        born_to: None,
        sex: None,
        postcode: s.get("address-postalcode").map(str::to_owned),
        limit: s.count as u64,
        offset: s.offset as u64,
    };
    // Each `birthdate` narrows the range (repeated parameters AND).
    for b in s.all("birthdate") {
        let bounds = DateParam::parse(b)
            .and_then(|d| d.bounds())
            .ok_or_else(|| {
                invalid(
                    "birth_date",
                    "date",
                    "birthdate as [eq|ge|gt|le|lt|sa|eb]YYYY[-MM[-DD]]",
                )
            })?;
        if let Some((d, inclusive)) = bounds.0 {
            let from = if inclusive { Some(d) } else { d.succ_opt() };
            q.born_from = q.born_from.max(from);
        }
        if let Some((d, inclusive)) = bounds.1 {
            let to = if inclusive { Some(d) } else { d.pred_opt() };
            q.born_to = match q.born_to {
                Some(t) => to.map(|x| x.min(t)),
                None => to,
            };
        }
    }
    if q.family.is_none() && q.born_from.is_none() && q.born_to.is_none() {
        return Err(ApiError::new(
            crate::api::errors::SEARCH_TOO_BROAD,
            "search by identifier, or by family and/or birthdate",
        ));
    }
    if let Some(g) = s.get("gender") {
        let sex = tessera_nhs::AdministrativeSex::parse(g)
            .map_err(|e| invalid("administrative_sex", "code", &e.to_string()))?;
        q.sex = Some(sex.as_str().to_string());
    }
    Ok(Lookup::Demographic(q))
}

/// `GET /fhir/Patient?...`: a searchset Bundle.
#[utoipa::path(
    tag = "fhir",
    params(
        ("identifier" = Option<String>, Query, description = "<system>|<value>: NHS number or local number"),
        ("family" = Option<String>, Query),
        ("given" = Option<String>, Query),
        ("birthdate" = Option<String>, Query, description = "With prefixes (eq, ge, le, gt, lt); partial dates"),
        ("gender" = Option<String>, Query),
        ("address-postalcode" = Option<String>, Query),
        ("_count" = Option<u32>, Query),
        ("_offset" = Option<u32>, Query)
    ),
    responses(
        (status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object)
    )
)]
#[get("/fhir/Patient")]
pub async fn search(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let prefer = req.headers().get("Prefer").and_then(|v| v.to_str().ok());
    let parsed = tessera_fhir::Search::parse(req.query_string(), prefer, SEARCH_PARAMS)
        .and_then(|s| lookup(&s).map(|l| (s, l)));
    let (search, lookup) = match parsed {
        Ok(x) => x,
        Err(e) => return usecases::refuse(&auth, None, e).await,
    };
    let (patients, total): (Vec<Patient>, usize) = match lookup {
        Lookup::Nhs(n) => one_page(usecases::find_by_nhs_number(&auth, n).await?, &search),
        Lookup::Local(a, v) => {
            one_page(usecases::find_by_local_number(&auth, a, v).await?, &search)
        }
        Lookup::Demographic(q) => {
            let (page, total) = usecases::search(&auth, q).await?;
            (page, usize::try_from(total).unwrap_or(usize::MAX))
        }
    };
    let base = tessera_fhir::base_url(&req, None);
    let entries = patients
        .iter()
        .map(|p| bundle::matched(&base, "Patient", &p.id.to_string(), to_fhir(p)))
        .collect();
    let b = bundle::searchset(&base, "Patient", &search, total, entries);
    Ok(HttpResponse::Ok()
        .content_type(FHIR_JSON)
        .body(b.to_string()))
}

/// An identifier lookup finds one patient at most: its page under the search's paging.
fn one_page(found: Option<Patient>, s: &tessera_fhir::Search) -> (Vec<Patient>, usize) {
    let total = usize::from(found.is_some());
    let page = found.into_iter().skip(s.offset).take(s.count).collect();
    (page, total)
}

/// `GET /fhir/Patient/{id}/_history`: every version, newest first, as a history Bundle.
#[utoipa::path(
    tag = "fhir",
    params(
        ("id" = String, Path, description = "The patient")
    ),
    responses(
        (status = 200, description = "A history Bundle, newest first", content_type = "application/fhir+json", body = Object)
    )
)]
#[get("/fhir/Patient/{id}/_history")]
pub async fn history(
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Fhir).await?;
    let Some(id) = PatientId::parse(&path) else {
        return usecases::refuse(&auth, None, ApiError::not_found()).await;
    };
    let versions = usecases::history(&auth, id).await?;
    let base = tessera_fhir::base_url(&req, None);
    let created = versions.first().map(|v| v.recorded_at).unwrap_or_default();
    let mut out = vec![];
    for v in versions.iter().rev() {
        let demographics =
            serde_json::from_value(v.demographics.clone()).map_err(|e| ApiError::internal(&e))?;
        let p = Patient {
            id,
            version: v.version,
            demographics,
            created_at: created,
            updated_at: v.recorded_at,
            merged_into: None,
            replaces: vec![],
        };
        out.push(tessera_fhir::version::Version {
            version: v.version,
            recorded: v.recorded_at,
            resource: to_fhir(&p),
        });
    }
    let b = tessera_fhir::version::history(&base, "Patient", &id.to_string(), out);
    Ok(HttpResponse::Ok()
        .content_type(FHIR_JSON)
        .body(b.to_string()))
}

#[utoipa::path(
    tag = "fhir",
    responses(
        (status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object)
    )
)]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera MPI",
    published: PUBLISHED,
    resources: &[tessera_fhir::Resource {
        kind: "Patient",
        profile: Some(PROFILE),
        interactions: &[
            "read",
            "vread",
            "history-instance",
            "search-type",
            "create",
            "update",
        ],
        search: &[
            ("identifier", "token"),
            ("family", "string"),
            ("given", "string"),
            ("birthdate", "date"),
            ("gender", "token"),
            ("address-postalcode", "string"),
        ],
        operations: &[(
            "match",
            "http://hl7.org/fhir/OperationDefinition/Patient-match",
        )],
    }],
};
