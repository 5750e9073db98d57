//! RTT pathways: read one with its periods derived as of today, list a patient's, record a
//! clock event. Reading or recording needs a relationship with the patient, or being the
//! pathway's treating team or consultant.
use super::decide::{decide_each, decide_one, denied, permit, CareContext, Decided, Who};
use super::{audited, store_error};
use crate::api::Authorized;
use crate::domain::{EventKind, PathwayId};
use crate::store::{self, NewClockEvent, PathwayRow, PathwayView};
use chrono::NaiveDate;
use sea_orm::DatabaseTransaction;
use tessera_edge::gate::Ending;
use tessera_edge::problem::{ApiError, Flavour};
use tessera_patients::PatientId;

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

/// A pathway with its clock events and its periods as derived on `today`.
pub async fn read(
    auth: &Authorized,
    id: PathwayId,
    today: NaiveDate,
) -> Result<PathwayView, ApiError> {
    let a = Who::of(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let view = store::pathway(txn, id, today)
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
            let d = decided(&a, txn, &view.pathway).await?;
            if !d.outcome.permit {
                return Err(denied(&view.pathway.patient_id, &d));
            }
            let ending = permit(&view.pathway.patient_id, &d, 200);
            Ok((view, ending))
        })
    })
    .await
}

/// A patient's pathways the caller may see: all of them with a relationship (or
/// break-glass), else those whose care context is the caller's.
pub async fn list(auth: &Authorized, patient: PatientId) -> Result<Vec<PathwayRow>, ApiError> {
    let a = Who::of(auth);
    // The access projection and the audit record hold the MPI's ids as text.
    let pid = patient.to_string();
    audited(auth, Some(pid.clone()), move |txn| {
        Box::pin(async move {
            let rows = store::pathways_of(txn, &patient)
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
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
    .await
}

/// Records a clock event on a pathway; answers the pathway with its periods re-derived.
pub async fn record(
    auth: &Authorized,
    id: PathwayId,
    kind: EventKind,
    on_date: NaiveDate,
    today: NaiveDate,
) -> Result<PathwayView, ApiError> {
    let a = Who::of(auth);
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let source = format!("api:{}", auth.identity.user_id);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let before = store::pathway(txn, id, today)
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
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
            .map_err(|e| store_error(e, Flavour::Json))?;
            let after = store::pathway(txn, id, today)
                .await
                .map_err(|e| store_error(e, Flavour::Json))?;
            let ending: Ending = permit(&after.pathway.patient_id, &d, 201);
            Ok((after, ending))
        })
    })
    .await
}
