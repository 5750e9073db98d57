//! RTT pathways over JSON: read one (events, periods, weeks waited), list a patient's, and
//! record clock events. Reading or recording needs a relationship with the patient, or being
//! the pathway's treating team or consultant.
use super::referrals::{parse_clock, ClockBody};
use super::support::{
    audited, decide_each, decide_one, denied, patient_id, permit, refuse, store_error, uuid,
    Caller, CareContext, Decided, Who,
};
use crate::store::{self, NewClockEvent, PathwayRow};
use actix_web::{get, post, web, HttpResponse};
use chrono::Utc;
use sea_orm::DatabaseTransaction;
use std::collections::HashMap;
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, Flavour};

const JSON: Flavour = Flavour::Json;

fn context_of(p: &PathwayRow) -> Vec<CareContext> {
    vec![CareContext {
        team: p.team.clone(),
        clinician: p.consultant.clone(),
        since: p.created_at,
    }]
}

async fn decided(
    auth: &Who,
    txn: &DatabaseTransaction,
    p: &PathwayRow,
) -> Result<Decided, ApiError> {
    decide_one(auth, txn, &p.patient_id, context_of(p)).await
}

#[utoipa::path(
    tag = "pathways",
    params(("id" = uuid::Uuid, Path, description = "The pathway")),
    responses((status = 200, description = "The pathway with its clock events and RTT periods as derived today", body = Object))
)]
#[get("/pathways/{id}")]
pub async fn read(caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let id = match uuid("id", &path) {
        Ok(i) => i,
        Err(e) => return refuse(&auth, None, e).await,
    };
    let a = Who::of(&auth);
    let today = Utc::now().date_naive();
    let v = audited(&auth, None, move |txn| {
        Box::pin(async move {
            let view = store::pathway(txn, id, today)
                .await
                .map_err(|e| store_error(e, JSON))?;
            let d = decided(&a, txn, &view.pathway).await?;
            if !d.outcome.permit {
                return Err(denied(&view.pathway.patient_id, &d));
            }
            let ending = permit(&view.pathway.patient_id, &d, 200);
            Ok((view, ending))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

#[utoipa::path(
    tag = "pathways",
    params(("patient_id" = String, Query, description = "The patient")),
    responses((status = 200, description = "The patient's pathways the caller may see", body = Object))
)]
#[get("/pathways")]
pub async fn list(
    caller: Caller,
    q: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let patient = match q.get("patient_id").map(|p| patient_id(p)) {
        Some(Ok(p)) if q.len() == 1 => p,
        Some(Err(e)) => return refuse(&auth, None, e).await,
        _ => {
            let e = super::support::invalid("patient_id", "required", "list by patient_id only");
            return refuse(&auth, None, e).await;
        }
    };
    let a = Who::of(&auth);
    let pid = patient.clone();
    let rows = audited(&auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            let rows = store::pathways_of(txn, &pid)
                .await
                .map_err(|e| store_error(e, JSON))?;
            // Each pathway is listed when a relationship permits, or its own care context.
            let items: Vec<_> = rows.iter().map(|r| (pid.clone(), context_of(r))).collect();
            let d = decide_each(&a, txn, &items).await?;
            // The caller's own standing with the patient (a relationship, break-glass): it
            // lists every pathway, and answers for a patient with none.
            let own = decide_one(&a, txn, &pid, Vec::new()).await?;
            let Some(basis) = std::iter::once(&own).chain(&d).find(|x| x.outcome.permit) else {
                return Err(denied(&pid, &own));
            };
            let mut ending = permit(&pid, basis, 200);
            let rows: Vec<PathwayRow> = rows
                .into_iter()
                .zip(d)
                .filter(|(_, x)| x.outcome.permit)
                .map(|(r, _)| r)
                .collect();
            ending.result_count = rows.len() as i32;
            Ok((rows, ending))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "total": rows.len(), "pathways": rows })))
}

/// Records a clock event on a pathway; answers the pathway with its periods re-derived.
#[utoipa::path(
    tag = "pathways",
    params(("id" = uuid::Uuid, Path, description = "The pathway")),
    responses((status = 201, description = "The pathway with its periods re-derived", body = Object))
)]
#[post("/pathways/{id}/clock-events")]
pub async fn record(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ClockBody>,
) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(JSON).await?;
    let today = Utc::now().date_naive();
    let (id, (kind, on_date)) = match (uuid("id", &path), parse_clock(&body, today)) {
        (Ok(i), Ok(c)) => (i, c),
        (Err(e), _) | (_, Err(e)) => return refuse(&auth, None, e).await,
    };
    let a = Who::of(&auth);
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let source = format!("api:{}", auth.identity.user_id);
    let v = audited(&auth, None, move |txn| {
        Box::pin(async move {
            let before = store::pathway(txn, id, today)
                .await
                .map_err(|e| store_error(e, JSON))?;
            let d = decided(&a, txn, &before.pathway).await?;
            if !d.outcome.permit {
                return Err(denied(&before.pathway.patient_id, &d));
            }
            store::record_clock_event(
                txn,
                &tenant,
                NewClockEvent {
                    pathway_id: id,
                    on_date,
                    kind,
                    source,
                },
                Some(&trace),
            )
            .await
            .map_err(|e| store_error(e, JSON))?;
            let after = store::pathway(txn, id, today)
                .await
                .map_err(|e| store_error(e, JSON))?;
            let ending: Ending = permit(&after.pathway.patient_id, &d, 201);
            Ok((after, ending))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(v))
}
