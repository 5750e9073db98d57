//! Relationships claimed by hand (a self-claimed one raises an alert for the privacy
//! officer) and break-glass (granted at once, time-boxed, alerted).
use super::audited_for_patient;
use crate::api::Authorized;
use crate::store::{self, BreakGlassGrant, NewBreakGlass, NewRelationship, Relationship};
use chrono::{Duration, Utc};
use tessera_edge::problem::ApiError;

/// A claim, parsed: the patient, who it is for, its origin and reason, and how long it lasts.
pub struct Claim {
    pub patient_id: tessera_patients::PatientId,
    pub user_id: Option<String>,
    pub team: Option<String>,
    pub origin: &'static str,
    pub reason_code: String,
    pub justification: String,
    pub days: i64,
}

/// Grants the relationship a claim asks for; a self-claimed one raises an alert.
pub async fn claim(auth: &Authorized, c: Claim) -> Result<Relationship, ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    let role = auth.identity.role.job_role.clone();
    let (reason_code, justification) = (c.reason_code, c.justification);
    let (user_id, team, origin, days) = (c.user_id, c.team, c.origin, c.days);
    let me = auth.identity.user_id.clone();
    let now = Utc::now();
    let pid = c.patient_id;
    audited_for_patient(auth, c.patient_id, move |txn| {
        Box::pin(async move {
            let r = store::grant_relationship(
                txn,
                &tenant,
                NewRelationship {
                    patient_id: pid,
                    user_id,
                    team,
                    starts_at: now,
                    ends_at: Some(now + Duration::days(days)),
                    origin,
                    reason_code: Some(reason_code.clone()),
                    justification: Some(justification.clone()),
                    source: None,
                    created_by: me.clone(),
                },
                Some(&trace),
            )
            .await?;
            if origin == "self-claimed" {
                store::raise_alert(
                    txn,
                    &tenant,
                    "self-claimed",
                    r.id,
                    &pid,
                    &me,
                    &role,
                    &reason_code,
                    &justification,
                    r.ends_at,
                    Some(&trace),
                )
                .await?;
            }
            Ok(r)
        })
    })
    .await
}

/// Grants emergency access and raises the alert that goes with it.
pub async fn break_glass(
    auth: &Authorized,
    n: NewBreakGlass,
) -> Result<(BreakGlassGrant, uuid::Uuid), ApiError> {
    let tenant = auth.tenant.clone();
    let trace = auth.trace.clone();
    audited_for_patient(auth, n.patient_id, move |txn| {
        Box::pin(async move { store::grant_break_glass(txn, &tenant, n, Some(&trace)).await })
    })
    .await
}
