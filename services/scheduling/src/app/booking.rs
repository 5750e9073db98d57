//! Booking: the first free slots, holds, appointments booked, rescheduled, cancelled and
//! given their outcome, and the rebooking worklist. A booking names a patient the trust's
//! MPI has (`tessera_patients`, ADR 21), checked in the booking's own transaction.
use super::{audited, listed, publish, Fail};
use crate::api::Authorized;
use crate::domain::{AppointmentId, Attendance, CancelledBy, HoldId, SlotId};
use crate::store::events::{self, Rtt};
use crate::store::{self, Appointment, Availability, Booking, Hold, NewBooking, RebookItem, Slot};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;

pub async fn availability(auth: &Authorized, q: Availability) -> Result<Vec<Slot>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(async move { store::availability(txn, &q).await })
    })
    .await
}

pub async fn slot(auth: &Authorized, id: SlotId) -> Result<Slot, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let s = store::slot(txn, id).await.map_err(Fail::from)?;
            Ok((s, Ending::permit(None, 200, 1)))
        })
    })
    .await
}

pub async fn hold(auth: &Authorized, id: SlotId) -> Result<Hold, ApiError> {
    let user = auth.identity.user_id.clone();
    let seconds = auth.state.config.booking.hold_seconds;
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let h = store::hold(txn, id, &user, seconds)
                .await
                .map_err(Fail::from)?;
            Ok((h, Ending::permit(None, 201, 1)))
        })
    })
    .await
}

/// Books `b` for a patient the trust's MPI has; a retry under the same `Idempotency-Key`
/// answers with what the first booked (`Booking::Replayed`) and changes nothing.
pub async fn book(auth: &Authorized, b: NewBooking) -> Result<Booking, ApiError> {
    let patient = b.patient.to_string();
    let p = publish(auth);
    audited(auth, Some(patient.clone()), move |txn| {
        Box::pin(async move {
            tessera_patients::require_known(txn, b.patient.as_uuid(), chrono::Utc::now())
                .await
                .map_err(|e| Fail::from(store::StoreError::from(e)))?;
            let done = store::book(txn, &b, None).await.map_err(Fail::from)?;
            let ending = match &done {
                Booking::New(a) => {
                    events::booked(txn, &p, AppointmentId::from(a.id))
                        .await
                        .map_err(Fail::from)?;
                    Ending::permit(Some(patient), 201, 1)
                }
                Booking::Replayed(_) => Ending {
                    reason: "idempotent-replay".into(),
                    ..Ending::permit(Some(patient), 201, 1)
                },
            };
            Ok((done, ending))
        })
    })
    .await
}

/// Moves appointment `old` to `slot`: the new booking first, then `old` cancelled as `by`'s,
/// in one transaction — the patient never holds both slots, nor neither.
pub async fn reschedule(
    auth: &Authorized,
    old: AppointmentId,
    slot: SlotId,
    hold: Option<HoldId>,
    overbook: bool,
    by: CancelledBy,
) -> Result<Appointment, ApiError> {
    let user = auth.identity.user_id.clone();
    let p = publish(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let current = store::appointment(txn, old).await.map_err(Fail::from)?;
            let patient_id = Some(current.patient_id.clone());
            let fail = |e: store::StoreError| Fail {
                error: super::store_error(e),
                patient_id: patient_id.clone(),
            };
            let patient = tessera_patients::PatientId::parse(&current.patient_id)
                .ok_or_else(|| fail(store::StoreError::NotFound))?;
            let b = NewBooking {
                slot,
                patient,
                referral: current.referral_id,
                pathway: current.pathway_id,
                ppid: current.ppid.clone().zip(current.ppid_issuer.clone()),
                communicated: current.communicated,
                hold,
                overbook,
                by: user,
                key: None,
            };
            let (Booking::New(a) | Booking::Replayed(a)) =
                store::book(txn, &b, Some(old)).await.map_err(fail)?;
            store::cancel(txn, old, by, "rescheduled", None)
                .await
                .map_err(fail)?;
            events::booked(txn, &p, AppointmentId::from(a.id))
                .await
                .map_err(fail)?;
            events::closed(txn, &p, old.as_uuid(), &Rtt::default())
                .await
                .map_err(fail)?;
            Ok((a, Ending::permit(Some(current.patient_id), 201, 1)))
        })
    })
    .await
}

pub async fn appointment(auth: &Authorized, id: AppointmentId) -> Result<Appointment, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let a = store::appointment(txn, id).await.map_err(Fail::from)?;
            let p = Some(a.patient_id.clone());
            Ok((a, Ending::permit(p, 200, 1)))
        })
    })
    .await
}

/// Cancels `id` as `by`'s; `expected`: the version the caller read (FHIR `If-Match`).
pub async fn cancel(
    auth: &Authorized,
    id: AppointmentId,
    by: CancelledBy,
    reason: String,
    expected: Option<i64>,
) -> Result<Appointment, ApiError> {
    let p = publish(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let a = store::cancel(txn, id, by, &reason, expected)
                .await
                .map_err(Fail::from)?;
            events::closed(txn, &p, a.id, &Rtt::default())
                .await
                .map_err(Fail::from)?;
            let p = Some(a.patient_id.clone());
            Ok((a, Ending::permit(p, 200, 1)))
        })
    })
    .await
}

/// Records the outcome of `id`; `expected` as for [`cancel`].
pub async fn outcome(
    auth: &Authorized,
    id: AppointmentId,
    outcome: Attendance,
    rtt: Rtt,
    expected: Option<i64>,
) -> Result<Appointment, ApiError> {
    let p = publish(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let a = store::record_outcome(txn, id, outcome, expected)
                .await
                .map_err(Fail::from)?;
            events::closed(txn, &p, a.id, &rtt)
                .await
                .map_err(Fail::from)?;
            let p = Some(a.patient_id.clone());
            Ok((a, Ending::permit(p, 200, 1)))
        })
    })
    .await
}

/// Appointments by patient, date and status, earliest first.
pub async fn search(
    auth: &Authorized,
    q: store::AppointmentSearch,
) -> Result<Vec<Appointment>, ApiError> {
    listed(auth, q.patient.clone(), move |txn| {
        Box::pin(async move { store::search_appointments(txn, &q).await })
    })
    .await
}

pub async fn rebook_worklist(auth: &Authorized, limit: u64) -> Result<Vec<RebookItem>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(store::rebook_worklist(txn, limit))
    })
    .await
}
