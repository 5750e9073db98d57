//! Access follows the patient through the MPI's merges (docs/contracts/merge.md): the
//! survivor gains copies of the merged record's live relationships and its seals, tagged with
//! the merge; an unmerge ends and removes exactly those copies, and keeps everything granted
//! to the survivor since.
use super::{end_by_source, NewRelationship, StoreError};
use super::{grant_relationship, relationships_of, remove_seal, seals_of, set_seal, SealLevel};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use tessera_bootstrap::TraceContext;
use tessera_patients::PatientId;
use tessera_tenancy::TenantId;

fn source(merge_id: &str) -> String {
    format!("merge:{merge_id}")
}

pub async fn follow_merge(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    merge_id: &str,
    merged: &PatientId,
    survivor: &PatientId,
    now: DateTime<Utc>,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    for r in relationships_of(txn, merged).await? {
        if r.ends_at.is_some_and(|e| e <= now) {
            continue;
        }
        grant_relationship(
            txn,
            tenant,
            NewRelationship {
                patient_id: *survivor,
                user_id: r.user_id,
                team: r.team,
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                origin: match r.origin.as_str() {
                    "referral" => "referral",
                    "admission" => "admission",
                    "appointment" => "appointment",
                    "caseload" => "caseload",
                    "self-claimed" => "self-claimed",
                    "patient-consent" => "patient-consent",
                    _ => "colleague-granted",
                },
                reason_code: r.reason_code,
                justification: Some(format!("copied from merged record {merged}")),
                source: Some(source(merge_id)),
                created_by: "system".into(),
            },
            trace,
        )
        .await?;
    }
    let survivor_seals = seals_of(txn, survivor).await?;
    for s in seals_of(txn, merged).await? {
        // The survivor's own seal on the item stands; otherwise it takes the merged record's.
        if survivor_seals.iter().any(|x| x.item == s.item) {
            continue;
        }
        let level = if s.level == "locked" {
            SealLevel::Locked
        } else {
            SealLevel::Sealed
        };
        set_seal(
            txn,
            tenant,
            survivor,
            &s.item,
            level,
            &s.users,
            &s.teams,
            s.directive_id,
            &source(merge_id),
            trace,
        )
        .await?;
    }
    Ok(())
}

pub async fn undo_merge(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    merge_id: &str,
    survivor: &PatientId,
    now: DateTime<Utc>,
    trace: Option<&TraceContext>,
) -> Result<(), StoreError> {
    end_by_source(txn, tenant, &source(merge_id), now, "merge undone", trace).await?;
    for s in seals_of(txn, survivor).await? {
        if s.set_by == source(merge_id) {
            remove_seal(txn, tenant, survivor, &s.item, trace).await?;
        }
    }
    Ok(())
}
