//! Referrals over JSON: receive, read (with its history), search (the triage worklist), and
//! move through the lifecycle.
use super::support::{
    audited, denied, domain_error, invalid, patient_id, permit, refuse, store_error, uuid, Caller,
    CareContext, Decided, Who,
};
use super::support::{decide_each, decide_one};
use crate::domain::{
    code, date, specialty_code, ClockFlags, ClockKind, DomainError, Ppid, Priority, ReferralState,
    Source, Ubrn,
};
use crate::store::{self, NewPathway, NewReferral, Referral, ReferralSearch, TransitionRequest};
use actix_web::{get, http::header, post, web, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, FieldError, Flavour};
use utoipa::ToSchema;

/// A referral with its history and the states it may move to next.
#[derive(Serialize, ToSchema)]
pub struct ReferralDetail {
    #[serde(flatten)]
    referral: Referral,
    history: Vec<store::Transition>,
    allowed_transitions: Vec<&'static str>,
}

#[derive(Serialize, ToSchema)]
pub struct ReferralList {
    total: usize,
    referrals: Vec<Referral>,
}

const JSON: Flavour = Flavour::Json;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerBody {
    /// The referrer's professional code (GMC, GMP or local).
    pub code: String,
    /// The referring organisation's ODS code.
    pub organisation: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentBody {
    pub url: String,
    pub content_type: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayBody {
    pub ppid: String,
    pub issuer: String,
    /// `existing` (refer within a pathway this trust holds; the default), `new` (a pathway
    /// with this PPID), `transfer-in` (from another provider, with `original_start`).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub original_start: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralBody {
    pub patient_id: String,
    /// `e-rs`, `gp`, `consultant`, `self`.
    pub source: String,
    #[serde(default)]
    pub ubrn: Option<String>,
    pub referrer: ReferrerBody,
    /// `routine`, `urgent`, `two-week-wait`.
    pub priority: String,
    pub specialty: String,
    pub treatment_function: String,
    pub receiving_service: String,
    pub receiving_team: String,
    #[serde(default)]
    pub receiving_clinician: Option<String>,
    #[serde(default)]
    pub received_on: Option<String>,
    #[serde(default)]
    pub ubrn_converted_on: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// To a consultant-led service: on an RTT pathway (default true).
    #[serde(default)]
    pub rtt: Option<bool>,
    #[serde(default)]
    pub pathway: Option<PathwayBody>,
}

fn not_future(
    field: &'static str,
    d: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, DomainError> {
    // A day's grace for clocks ahead of UTC (British Summer Time).
    if d > today + Duration::days(1) {
        Err(DomainError::invalid(
            field,
            "future",
            "a date that has happened",
        ))
    } else {
        Ok(d)
    }
}

fn ods(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim().to_ascii_uppercase();
    if (3..=8).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(t)
    } else {
        Err(DomainError::invalid(
            field,
            "format",
            "an ODS code (3–8 letters and digits)",
        ))
    }
}

/// Field errors collected, so a request hears of every invalid field at once.
struct Collect(Vec<FieldError>);

impl Collect {
    fn take<T>(&mut self, r: Result<T, DomainError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(DomainError::Invalid {
                field,
                code,
                message,
            }) => {
                self.0.push(FieldError::new(field, code, message));
                None
            }
            Err(e) => {
                self.0
                    .push(FieldError::new("referral", "invalid", e.to_string()));
                None
            }
        }
    }
}

/// Parses a referral, naming every invalid field at once.
pub fn parse_referral(
    b: ReferralBody,
    actor: &str,
    today: NaiveDate,
) -> Result<NewReferral, Vec<FieldError>> {
    let mut c = Collect(Vec::new());
    let patient = c.take(
        uuid::Uuid::parse_str(b.patient_id.trim())
            .map(|u| u.to_string())
            .map_err(|_| DomainError::invalid("patient_id", "format", "a patient id (UUID)")),
    );
    let source = c.take(Source::parse(&b.source).ok_or_else(|| {
        DomainError::invalid("source", "code", "one of e-rs, gp, consultant, self")
    }));
    let ubrn = match (source, b.ubrn.as_deref()) {
        (Some(Source::Ers), Some(u)) => c.take(Ubrn::parse(u)).map(Some),
        (Some(Source::Ers), None) => c.take(Err(DomainError::invalid(
            "ubrn",
            "required",
            "an e-RS referral has a UBRN",
        ))),
        (_, Some(_)) => c.take(Err(DomainError::invalid(
            "ubrn",
            "not-e-rs",
            "only e-RS referrals have a UBRN",
        ))),
        (_, None) => Some(None),
    };
    let referrer_code = c.take(code("referrer.code", &b.referrer.code));
    let referrer_org = c.take(ods("referrer.organisation", &b.referrer.organisation));
    let priority = c.take(Priority::parse(&b.priority).ok_or_else(|| {
        DomainError::invalid("priority", "code", "one of routine, urgent, two-week-wait")
    }));
    let specialty = c.take(specialty_code("specialty", &b.specialty));
    let tf = c.take(specialty_code("treatment_function", &b.treatment_function));
    let service = b.receiving_service.trim().to_string();
    if service.is_empty() || service.len() > 200 {
        c.0.push(FieldError::new(
            "receiving_service",
            "required",
            "the service referred to (1–200 characters)",
        ));
    }
    let team = c.take(code("receiving_team", &b.receiving_team));
    let clinician = match b.receiving_clinician.as_deref() {
        Some(x) => c.take(code("receiving_clinician", x)).map(Some),
        None => Some(None),
    };
    let received_on = match b.received_on.as_deref() {
        Some(d) => c.take(date("received_on", d).and_then(|d| not_future("received_on", d, today))),
        None => Some(today),
    };
    let converted = match b.ubrn_converted_on.as_deref() {
        Some(d) => c
            .take(
                date("ubrn_converted_on", d)
                    .and_then(|d| not_future("ubrn_converted_on", d, today)),
            )
            .map(Some),
        None => Some(None),
    };
    if b.attachments.len() > 50 {
        c.0.push(FieldError::new(
            "attachments",
            "too-many",
            "at most 50 attachments",
        ));
    }
    let mut attachments = Vec::new();
    for (i, a) in b.attachments.iter().enumerate() {
        let url = a.url.trim();
        let ok =
            (url.starts_with("https://") || url.starts_with("http://") || url.starts_with("urn:"))
                && url.len() <= 2048
                && !url.chars().any(char::is_whitespace);
        if !ok {
            c.0.push(FieldError::new(
                format!("attachments[{i}].url"),
                "format",
                "an http(s) URL or URN, by reference: the document stays where it is",
            ));
        }
        if a.content_type.trim().is_empty() || !a.content_type.contains('/') {
            c.0.push(FieldError::new(
                format!("attachments[{i}].content_type"),
                "format",
                "a MIME type, e.g. application/pdf",
            ));
        }
        attachments.push(serde_json::json!({
            "url": url, "content_type": a.content_type.trim(), "title": a.title.as_deref().map(str::trim),
        }));
    }
    let pathway = match (b.rtt.unwrap_or(true), b.pathway) {
        (false, None) => Some(NewPathway::None),
        (false, Some(_)) => c.take(Err(DomainError::invalid(
            "pathway",
            "not-rtt",
            "a referral outside RTT has no pathway",
        ))),
        (true, None) => Some(NewPathway::New(None)),
        (true, Some(p)) => {
            let ppid = c.take(Ppid::parse(&p.ppid, &p.issuer));
            match (
                p.kind.as_deref().unwrap_or("existing"),
                p.original_start.as_deref(),
            ) {
                ("existing", None) => ppid.map(NewPathway::Existing),
                ("new", None) => ppid.map(|x| NewPathway::New(Some(x))),
                ("transfer-in", Some(s)) => {
                    let start = c.take(
                        date("pathway.original_start", s)
                            .and_then(|d| not_future("pathway.original_start", d, today)),
                    );
                    match (ppid, start) {
                        (Some(ppid), Some(original_start)) => Some(NewPathway::TransferIn {
                            ppid,
                            original_start,
                        }),
                        _ => None,
                    }
                }
                ("transfer-in", None) => c.take(Err(DomainError::invalid(
                    "pathway.original_start",
                    "required",
                    "a transfer in keeps the original clock start",
                ))),
                _ => c.take(Err(DomainError::invalid(
                    "pathway.kind",
                    "code",
                    "existing, new, or transfer-in (with original_start only)",
                ))),
            }
        }
    };
    match (
        patient,
        source,
        ubrn,
        referrer_code,
        referrer_org,
        priority,
        specialty,
        tf,
        team,
        clinician,
        received_on,
        converted,
        pathway,
    ) {
        (
            Some(patient_id),
            Some(source),
            Some(ubrn),
            Some(referrer_code),
            Some(referrer_org),
            Some(priority),
            Some(specialty),
            Some(treatment_function),
            Some(receiving_team),
            Some(receiving_clinician),
            Some(received_on),
            Some(ubrn_converted_on),
            Some(pathway),
        ) if c.0.is_empty() => Ok(NewReferral {
            patient_id,
            source,
            ubrn,
            referrer_code,
            referrer_org,
            priority,
            specialty,
            treatment_function,
            receiving_service: service,
            receiving_team,
            receiving_clinician,
            received_on,
            ubrn_converted_on,
            attachments: serde_json::Value::Array(attachments),
            pathway,
            created_by: actor.to_string(),
        }),
        _ => Err(c.0),
    }
}

/// The referral's receiving team and clinician: the referral was addressed to them, so they
/// may read it (and only it) whatever its state; the patient's other records need a
/// relationship.
pub fn context_of(r: &Referral) -> Vec<CareContext> {
    vec![CareContext {
        team: Some(r.receiving_team.clone()),
        clinician: r.receiving_clinician.clone(),
        since: r.created_at,
    }]
}

/// Receives a referral (in AWAITING_TRIAGE), with its pathway and clock start.
#[utoipa::path(
    tag = "referrals",
    responses((status = 201, description = "The referral, received (AWAITING_TRIAGE), with its pathway", body = Referral, headers(("Location" = String, description = "The referral's URL")))
    )
)]
#[post("/referrals")]
pub async fn create(
    caller: Caller,
    body: web::Json<ReferralBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let today = Utc::now().date_naive();
    let n = match parse_referral(body.into_inner(), &auth.identity.user_id, today) {
        Ok(n) => n,
        Err(errs) => return refuse(&auth, None, ApiError::validation(errs)).await,
    };
    let r = receive(&auth, n).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/referrals/{}", r.id)))
        .json(r))
}

/// Stores a parsed referral, audited: shared by the JSON and FHIR APIs.
pub async fn receive(
    auth: &super::support::Authorized,
    n: NewReferral,
) -> Result<Referral, ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let patient = n.patient_id.clone();
    let flavour = auth.flavour;
    audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            // Only a patient of this trust can be referred (ADR 21).
            let known = uuid::Uuid::parse_str(&patient)
                .map_err(|_| tessera_patients::Refused::Unknown)
                .map_err(|r| ApiError::from(r).with_flavour(flavour))?;
            tessera_patients::require_known(txn, known, chrono::Utc::now())
                .await
                .map_err(|r| ApiError::from(r).with_flavour(flavour))?;
            let r = store::create_referral(txn, &tenant, n, Some(&trace))
                .await
                .map_err(|e| store_error(e, flavour))?;
            Ok((r, Ending::permit(Some(patient), 201, 1)))
        })
    })
    .await
}

/// A referral, if the caller may see it: with its history.
pub async fn read_one(
    auth: &super::support::Authorized,
    id: uuid::Uuid,
) -> Result<(Referral, Vec<store::Transition>), ApiError> {
    let flavour = auth.flavour;
    let who = Who::of(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let r = store::referral(txn, id)
                .await
                .map_err(|e| store_error(e, flavour))?;
            let d = decided(&who, txn, &r).await?;
            if !d.outcome.permit {
                return Err(denied(&r.patient_id, &d));
            }
            let h = store::transitions(txn, id)
                .await
                .map_err(|e| store_error(e, flavour))?;
            let ending = permit(&r.patient_id, &d, 200);
            Ok(((r, h), ending))
        })
    })
    .await
}

async fn decided(
    auth: &Who,
    txn: &sea_orm::DatabaseTransaction,
    r: &Referral,
) -> Result<Decided, ApiError> {
    decide_one(auth, txn, &r.patient_id, context_of(r)).await
}

#[utoipa::path(
    tag = "referrals",
    params(("id" = uuid::Uuid, Path, description = "The referral")),
    responses((status = 200, description = "The referral with its history and the states it may move to", body = ReferralDetail, headers(("ETag" = String, description = "W/\"<version>\""))))
)]
#[get("/referrals/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match uuid("id", &path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (r, history) = read_one(&auth, id).await?;
    let allowed_transitions = ReferralState::parse(&r.state)
        .map(|s| s.successors().iter().map(|x| x.as_str()).collect())
        .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tessera_fhir::version::etag(r.version)))
        .json(ReferralDetail {
            referral: r,
            history,
            allowed_transitions,
        }))
}

/// Search criteria, parsed.
pub fn parse_search(q: &HashMap<String, String>, max: u64) -> Result<ReferralSearch, ApiError> {
    let mut s = ReferralSearch {
        limit: 100,
        ..Default::default()
    };
    for (k, v) in q {
        match k.as_str() {
            "patient_id" => s.patient_id = Some(patient_id(v)?),
            "ubrn" => s.ubrn = Some(Ubrn::parse(v).map_err(domain_error)?.as_str().to_string()),
            "team" => s.team = Some(code("team", v).map_err(domain_error)?),
            "state" => {
                s.state = Some(ReferralState::parse(v).ok_or_else(|| {
                    invalid("state", "code", "a referral state, e.g. AWAITING_TRIAGE")
                })?)
            }
            "_count" | "limit" => {
                s.limit = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| invalid(k, "range", &format!("1 to {max}")))?
            }
            other => {
                return Err(invalid(
                    other,
                    "unknown",
                    "search by patient_id, ubrn, team, state, _count",
                ))
            }
        }
    }
    if s.patient_id.is_none() && s.ubrn.is_none() && s.team.is_none() {
        return Err(invalid(
            "patient_id",
            "required",
            "search by patient_id, ubrn or team (the triage worklist)",
        ));
    }
    Ok(s)
}

/// The referrals that match and that the caller may see; the audit record counts them.
/// The referrals `s` finds that the caller may see, and whether the store's limit cut the
/// matches short (so a count of what is shown is not the whole).
pub async fn search_visible(
    auth: &super::support::Authorized,
    s: ReferralSearch,
) -> Result<(Vec<Referral>, bool), ApiError> {
    let flavour = auth.flavour;
    let one_patient = s.patient_id.clone();
    let limit = s.limit;
    let who = Who::of(auth);
    audited(auth, one_patient.clone(), move |txn| {
        Box::pin(async move {
            let mut found = store::search_referrals(txn, &s)
                .await
                .map_err(|e| store_error(e, flavour))?;
            let capped = found.len() as u64 >= limit;
            // FHIR's `_id` and `_lastUpdated` narrow what the criteria found, before anything
            // is decided or counted in the audit record.
            found.retain(|r| {
                (s.ids.is_empty() || s.ids.contains(&r.id.to_string()))
                    && tessera_fhir::search::within(&s.updated, r.updated_at)
            });
            // Each referral is shown when the caller may see that patient's records through a
            // relationship, or through that referral's own care context.
            let items: Vec<(String, Vec<CareContext>)> = found
                .iter()
                .map(|r| (r.patient_id.clone(), context_of(r)))
                .collect();
            let d = decide_each(&who, txn, &items).await?;
            let age = d.first().and_then(|x| x.projection_age_ms);
            let shown: Vec<Referral> = found
                .into_iter()
                .zip(d)
                .filter(|(_, x)| x.outcome.permit)
                .map(|(r, _)| r)
                .collect();
            let mut ending = Ending::permit(one_patient, 200, shown.len() as i32);
            ending.projection_age_ms = age;
            Ok(((shown, capped), ending))
        })
    })
    .await
}

#[utoipa::path(
    tag = "referrals",
    params(
        ("patient_id" = Option<String>, Query, description = "The patient"),
        ("ubrn" = Option<String>, Query, description = "e-RS Unique Booking Reference Number"),
        ("team" = Option<String>, Query, description = "The receiving team (the triage worklist)"),
        ("state" = Option<String>, Query, description = "A referral state, e.g. AWAITING_TRIAGE"),
        ("_count" = Option<u64>, Query, description = "1 to 1000 (100)")
    ),
    responses((status = 200, description = "The referrals that match and that the caller may see, newest first", body = ReferralList))
)]
#[get("/referrals")]
pub async fn search(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let s = match parse_search(&q, 1000) {
        Ok(s) => s,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let (shown, _) = search_visible(&auth, s).await?;
    Ok(HttpResponse::Ok().json(ReferralList {
        total: shown.len(),
        referrals: shown,
    }))
}

/// A clock event as the API takes it (on a pathway, or with a transition).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockBody {
    pub event: String,
    pub date: String,
    #[serde(default)]
    pub first_appointment: Option<bool>,
    #[serde(default)]
    pub communicated: Option<bool>,
    #[serde(default)]
    pub by_patient: Option<bool>,
    #[serde(default)]
    pub original_start: Option<String>,
    #[serde(default)]
    pub non_rtt_code: Option<i16>,
}

pub fn parse_clock(b: &ClockBody, today: NaiveDate) -> Result<(ClockKind, NaiveDate), ApiError> {
    let on = date("date", &b.date)
        .and_then(|d| not_future("date", d, today))
        .map_err(domain_error)?;
    let original_start = b
        .original_start
        .as_deref()
        .map(|s| date("original_start", s))
        .transpose()
        .map_err(domain_error)?;
    let k = ClockKind::parse(
        &b.event,
        ClockFlags {
            first_appointment: b.first_appointment,
            communicated: b.communicated,
            by_patient: b.by_patient,
            original_start,
            non_rtt_code: b.non_rtt_code,
        },
    )
    .map_err(domain_error)?;
    Ok((k, on))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// The state to move to.
    pub to: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub clinician: Option<String>,
    #[serde(default)]
    pub clock_event: Option<ClockBody>,
    #[serde(default)]
    pub expected_version: Option<i64>,
}

fn parse_transition(
    b: TransitionBody,
    actor: &str,
    today: NaiveDate,
) -> Result<TransitionRequest, ApiError> {
    let to = ReferralState::parse(&b.to).ok_or_else(|| {
        invalid(
            "to",
            "code",
            "one of AWAITING_TRIAGE, ACCEPTED, REJECTED, TRIAGE_RESPONSE, BOOKED, CANCELLED, COMPLETED, DISCHARGED",
        )
    })?;
    let reason = b
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if to.needs_reason() && reason.is_none() {
        return Err(invalid(
            "reason",
            "required",
            "say why: the referrer is told",
        ));
    }
    if reason.as_ref().is_some_and(|r| r.len() > 2000) {
        return Err(invalid("reason", "too-long", "at most 2000 characters"));
    }
    if to != ReferralState::Accepted && (b.team.is_some() || b.clinician.is_some()) {
        return Err(invalid(
            "team",
            "not-accepting",
            "team and clinician are chosen on acceptance only",
        ));
    }
    let team = b
        .team
        .as_deref()
        .map(|t| code("team", t))
        .transpose()
        .map_err(domain_error)?;
    let clinician = b
        .clinician
        .as_deref()
        .map(|t| code("clinician", t))
        .transpose()
        .map_err(domain_error)?;
    let clock_event = b
        .clock_event
        .as_ref()
        .map(|c| parse_clock(c, today))
        .transpose()?;
    Ok(TransitionRequest {
        to,
        reason,
        team,
        clinician,
        clock_event,
        expected_version: b.expected_version,
        actor: actor.to_string(),
    })
}

/// Moves a referral through its lifecycle: the receiving team (or anyone with a relationship
/// with the patient) may.
#[utoipa::path(
    tag = "referrals",
    params(("id" = uuid::Uuid, Path, description = "The referral")),
    responses(
        (status = 200, description = "The referral in its new state", body = Referral),
        (status = 409, description = "Not a permitted transition from the current state, or `expected_version` is stale", body = tessera_edge::problem::Problem, content_type = "application/problem+json")
    )
)]
#[post("/referrals/{id}/transitions")]
pub async fn transition(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<TransitionBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let today = Utc::now().date_naive();
    let (id, t) = match (
        uuid("id", &path),
        parse_transition(body.into_inner(), &auth.identity.user_id, today),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => return refuse(&auth, None, e).await,
    };
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let a = Who::of(&auth);
    let r = audited(&auth, None, move |txn| {
        Box::pin(async move {
            let current = store::referral(txn, id)
                .await
                .map_err(|e| store_error(e, JSON))?;
            let d = decided(&a, txn, &current).await?;
            if !d.outcome.permit {
                return Err(denied(&current.patient_id, &d));
            }
            let r = store::transition(txn, &tenant, id, t, today, Some(&trace))
                .await
                .map_err(|e| store_error(e, JSON))?;
            let ending = permit(&r.patient_id, &d, 200);
            Ok((r, ending))
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tessera_fhir::version::etag(r.version)))
        .json(r))
}
