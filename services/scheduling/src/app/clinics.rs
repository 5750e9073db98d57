//! Setting up a trust's clinics: clinics, session templates, bank holidays, and the sessions
//! generated from templates (or cancelled). No patient data, but audited like every request.
use super::{audited, publish, Fail};
use crate::api::Authorized;
use crate::domain::{ClinicId, NewClinic, NewTemplate, SessionId, TemplateId};
use crate::store::events::{self, Rtt};
use crate::store::{self, Clinic, Generated, Template};
use chrono::NaiveDate;
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

pub async fn create_clinic(auth: &Authorized, c: NewClinic) -> Result<Clinic, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let clinic = store::create_clinic(txn, &c).await.map_err(Fail::from)?;
            Ok((clinic, Ending::permit(None, 201, 1)))
        })
    })
    .await
}

pub async fn clinics(auth: &Authorized) -> Result<Vec<Clinic>, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let all = store::clinics(txn).await.map_err(Fail::from)?;
            let n = i32::try_from(all.len()).unwrap_or(i32::MAX);
            Ok((all, Ending::permit(None, 200, n)))
        })
    })
    .await
}

pub async fn create_template(
    auth: &Authorized,
    clinic: ClinicId,
    t: NewTemplate,
) -> Result<Template, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let template = store::create_template(txn, clinic, &t)
                .await
                .map_err(Fail::from)?;
            Ok((template, Ending::permit(None, 201, 1)))
        })
    })
    .await
}

pub async fn generate(
    auth: &Authorized,
    template: TemplateId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Generated, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let g = store::generate(txn, template, from, to)
                .await
                .map_err(Fail::from)?;
            let n = i32::try_from(g.sessions_created).unwrap_or(i32::MAX);
            Ok((g, Ending::permit(None, 200, n)))
        })
    })
    .await
}

pub async fn set_bank_holiday(
    auth: &Authorized,
    on: NaiveDate,
    name: String,
) -> Result<(), ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            store::set_bank_holiday(txn, on, &name)
                .await
                .map_err(Fail::from)?;
            Ok(((), Ending::permit(None, 204, 1)))
        })
    })
    .await
}

/// Cancels a session: every booked appointment in it becomes a provider cancellation and its
/// patient goes on the rebooking worklist. Returns the appointments cancelled.
pub async fn cancel_session(
    auth: &Authorized,
    session: SessionId,
    reason: String,
) -> Result<Vec<Uuid>, ApiError> {
    let p = publish(auth);
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let cancelled = store::cancel_session(txn, session, &reason)
                .await
                .map_err(Fail::from)?;
            for id in &cancelled {
                events::closed(txn, &p, *id, &Rtt::default())
                    .await
                    .map_err(Fail::from)?;
            }
            let n = i32::try_from(cancelled.len()).unwrap_or(i32::MAX);
            Ok((cancelled, Ending::permit(None, 200, n)))
        })
    })
    .await
}
