//! FHIR R4 UK Core over the same use cases as the JSON API: `Encounter` (a spell: read; search
//! by patient and status) and `Location` (wards and beds: read; search by `partof` — a ward's
//! beds — or every ward). `application/fhir+json`, `OperationOutcome` on errors (ADR 23).
mod map;

use super::Caller;
use crate::app::{refuse, spells, wards};
use crate::domain::{BedId, SpellId, WardId};
use actix_web::{get, web, HttpRequest, HttpResponse};
use map::{ENCOUNTER_PROFILE, LOCATION_PROFILE};
use tessera_edge::problem::{ApiError, Flavour};
use tessera_fhir::refs;
use tessera_fhir::respond::{invalid, not_found, ok, page, search};
use uuid::Uuid;

const FHIR: Flavour = Flavour::Fhir;
/// The most an `Encounter` search looks through (its total is exact up to here).
const MAX_MATCHES: u64 = 1000;

#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "The spell's id")),
    responses((status = 200, description = "The Encounter", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Encounter/{id}")]
pub async fn read_encounter(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = Uuid::parse_str(path.trim()) else {
        return refuse(&auth, None, not_found("Encounter")).await;
    };
    match spells::spell(&auth, SpellId::from(id)).await {
        Ok(v) => Ok(ok(&map::encounter(&v))),
        Err(e) if e.status.as_u16() == 404 => Err(not_found("Encounter")),
        Err(e) => Err(e.with_flavour(FHIR)),
    }
}

/// Spells as Encounters, latest admission first: by `patient` and `status`
/// (`in-progress`, `finished`, `cancelled`).
#[utoipa::path(
    tag = "fhir",
    params(
        ("patient" = Option<String>, Query, description = "Patient/<id> or <id>"),
        ("status" = Option<String>, Query, description = "in-progress, finished, cancelled"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Encounter")]
pub async fn search_encounters(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let parsed = (|| {
        let s = search(&req, &["patient", "status"])?;
        let patient = match s.get("patient") {
            Some(v) => Some(
                refs::referenced_id("Patient", v)
                    .and_then(tessera_patients::PatientId::parse)
                    .ok_or_else(|| invalid("patient", "format", "Patient/<id> (a UUID)"))?
                    .to_string(),
            ),
            None => None,
        };
        let status = match s.get("status").map(|v| refs::token(v).1) {
            None => None,
            Some("in-progress") => Some("admitted".to_string()),
            Some("finished") => Some("discharged".to_string()),
            Some("cancelled") => Some("cancelled".to_string()),
            Some(_) => {
                return Err(invalid(
                    "status",
                    "code",
                    "in-progress, finished or cancelled",
                ))
            }
        };
        Ok((s, patient, status))
    })();
    let (s, patient, status) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (total, views) =
        spells::page_of_spells(&auth, patient, status, MAX_MATCHES, (s.offset, s.count))
            .await
            .map_err(|e| e.with_flavour(FHIR))?;
    let base = tessera_fhir::base_url(&req, None);
    let entries = views
        .iter()
        .map(|v| {
            tessera_fhir::bundle::matched(
                &base,
                "Encounter",
                &v.spell.id.to_string(),
                map::encounter(v),
            )
        })
        .collect();
    Ok(ok(&tessera_fhir::searchset(
        &base,
        "Encounter",
        &s,
        total,
        entries,
    )))
}

#[utoipa::path(
    tag = "fhir",
    params(("id" = String, Path, description = "A ward's or a bed's id")),
    responses((status = 200, description = "The Location", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Location/{id}")]
pub async fn read_location(
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let Ok(id) = Uuid::parse_str(path.trim()) else {
        return refuse(&auth, None, not_found("Location")).await;
    };
    if let Ok(w) = wards::ward(&auth, WardId::from(id)).await {
        return Ok(ok(&map::ward(&w)));
    }
    match wards::bed(&auth, BedId::from(id)).await {
        Ok((b, w)) => Ok(ok(&map::bed(&b, &w.code))),
        Err(e) if e.status.as_u16() == 404 => Err(not_found("Location")),
        Err(e) => Err(e.with_flavour(FHIR)),
    }
}

/// Wards as Locations, or with `partof=Location/<ward>` that ward's beds (with their status).
#[utoipa::path(
    tag = "fhir",
    params(
        ("partof" = Option<String>, Query, description = "Location/<ward id>: its beds"),
        ("_count" = Option<u64>, Query),
        ("_offset" = Option<u64>, Query)
    ),
    responses((status = 200, description = "A searchset Bundle", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/Location")]
pub async fn search_locations(caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(FHIR).await?;
    let parsed = search(&req, &["partof"]).and_then(|s| {
        let ward = match s.get("partof") {
            Some(v) => Some(
                refs::referenced_id("Location", v)
                    .and_then(|i| Uuid::parse_str(i).ok())
                    .ok_or_else(|| invalid("partof", "format", "Location/<ward id> (a UUID)"))?,
            ),
            None => None,
        };
        Ok((s, ward))
    });
    let (s, ward) = match parsed {
        Ok(p) => p,
        Err(e) => return refuse(&auth, None, e).await,
    };
    match ward {
        None => {
            let all = wards::wards(&auth)
                .await
                .map_err(|e| e.with_flavour(FHIR))?;
            Ok(page(
                &req,
                "Location",
                &s,
                &all,
                |w| w.id.to_string(),
                map::ward,
            ))
        }
        Some(w) => {
            let id = WardId::from(w);
            let the_ward = match wards::ward(&auth, id).await {
                Ok(x) => x,
                // No such ward: no beds are part of it.
                Err(e) if e.status.as_u16() == 404 => {
                    return Ok(page(
                        &req,
                        "Location",
                        &s,
                        &Vec::<crate::store::BoardBed>::new(),
                        |b| b.id.to_string(),
                        |b| map::bed(b, ""),
                    ))
                }
                Err(e) => return Err(e.with_flavour(FHIR)),
            };
            let beds = wards::board(&auth, id)
                .await
                .map_err(|e| e.with_flavour(FHIR))?;
            Ok(page(
                &req,
                "Location",
                &s,
                &beds,
                |b| b.id.to_string(),
                |b| map::bed(b, &the_ward.code),
            ))
        }
    }
}

#[utoipa::path(
    tag = "fhir",
    responses((status = 200, description = "The CapabilityStatement", content_type = "application/fhir+json", body = Object))
)]
#[get("/fhir/metadata")]
pub async fn capability_statement() -> HttpResponse {
    CAPABILITY.response()
}

const CAPABILITY: tessera_fhir::Capability = tessera_fhir::Capability {
    software: "Tessera PAS",
    published: "2026-12-07",
    resources: &[
        tessera_fhir::Resource {
            kind: "Encounter",
            profile: Some(ENCOUNTER_PROFILE),
            interactions: &["read", "search-type"],
            search: &[("patient", "reference"), ("status", "token")],
            operations: &[],
        },
        tessera_fhir::Resource {
            kind: "Location",
            profile: Some(LOCATION_PROFILE),
            interactions: &["read", "search-type"],
            search: &[("partof", "reference")],
            operations: &[],
        },
    ],
};
