//! Admissions: a new spell, its first episode and (with a bed) its first stay, under the
//! patient's lock and the bed's (ADR 32); an `Idempotency-Key` answered from the spell it
//! made; from the admitted waiting list, the entry closed in the same transaction.
use super::orders::Admission;
use super::spells::{claim_bed, lock_patient, open_stay, record_action, spell, ward_exists};
use super::spells::{Spell, SpellView, SPELL_COLUMNS};
use super::{conflict, stmt, StoreError};
use crate::api::errors;
use crate::domain::{AdmissionPurpose, SpellId};
use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use serde_json::json;
use uuid::Uuid;

/// Admits; a retry under the same `Idempotency-Key` answers what the first admitted
/// (`true`: replayed) and changes nothing.
pub async fn admit(
    txn: &DatabaseTransaction,
    a: &Admission,
) -> Result<(SpellView, bool), StoreError> {
    let patient = a.patient.to_string();
    lock_patient(txn, &patient).await?;
    if let Some(key) = &a.key {
        let found = Spell::find_by_statement(stmt(
            &format!("SELECT {SPELL_COLUMNS} FROM spell WHERE idempotency_key = $1"),
            vec![key.clone().into()],
        ))
        .one(txn)
        .await?;
        match found {
            Some(s) if s.patient_id == patient => {
                return Ok((spell(txn, SpellId::from(s.id)).await?, true))
            }
            Some(_) => return Err(conflict(
                tessera_edge::codes::IDEMPOTENCY_MISMATCH,
                "this Idempotency-Key admitted another patient: use a new key for a new admission",
            )),
            None => {}
        }
    }
    if let Some(open) = txn
        .query_one(stmt(
            "SELECT id FROM spell WHERE patient_id = $1 AND status = 'admitted'",
            vec![patient.clone().into()],
        ))
        .await?
    {
        let id: Uuid = open.try_get("", "id")?;
        return Err(conflict(
            errors::ALREADY_ADMITTED,
            format!("the patient is in hospital already (spell {id})"),
        ));
    }
    if a.at > Utc::now() + Duration::minutes(5) {
        return Err(conflict(
            errors::OUT_OF_ORDER,
            format!("{} is in the future", a.at),
        ));
    }
    let ward = match (a.bed, a.ward) {
        (Some(bed), ward) => {
            let b = claim_bed(txn, bed, a.at).await?;
            if ward.is_some_and(|w| w.as_uuid() != b.ward_id) {
                return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                    "ward",
                    "mismatch",
                    "the bed is on another ward",
                )));
            }
            b.ward_id
        }
        (None, Some(w)) => {
            ward_exists(txn, w).await?;
            w.as_uuid()
        }
        (None, None) => {
            return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                "ward",
                "required",
                "a ward or a bed",
            )))
        }
    };
    let (mut referral, mut ppid, mut purpose) = (a.referral, a.ppid.clone(), a.purpose);
    if let Some(w) = a.waiting_list_entry {
        if !a.method.elective() {
            return Err(StoreError::Domain(crate::domain::DomainError::invalid(
                "admission_method",
                "not-elective",
                "an admission from the waiting list is elective (11, 12 or 13)",
            )));
        }
        let e = super::waiting::entry(txn, w).await?;
        referral = referral.or(e.referral_id);
        if ppid.is_none() {
            ppid = e.ppid.zip(e.ppid_issuer);
            // A decision to admit is a decision to treat: admitted from the list, treated.
            purpose = purpose.or(ppid.as_ref().map(|_| AdmissionPurpose::Treatment));
        }
    }
    let id = SpellId::new().as_uuid();
    txn.execute(stmt(
        "INSERT INTO spell (id, patient_id, status, ward_id, admission_method, admission_source,
                            intended_management, admission_purpose, referral_id, ppid, ppid_issuer,
                            commissioner, admitted_at, idempotency_key, created_by, updated_at,
                            waiting_list_entry_id, visit_number)
         VALUES ($1, $2, 'admitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now(), $15, $16)",
        vec![
            id.into(),
            patient.clone().into(),
            ward.into(),
            a.method.as_str().into(),
            a.source.as_str().into(),
            a.management.as_str().into(),
            purpose.map(|p| p.name().to_string()).into(),
            referral.into(),
            ppid.as_ref().map(|p| p.0.clone()).into(),
            ppid.as_ref().map(|p| p.1.clone()).into(),
            a.commissioner.clone().into(),
            a.at.into(),
            a.key.clone().into(),
            a.by.clone().into(),
            a.waiting_list_entry.into(),
            a.visit.clone().into(),
        ],
    ))
    .await?;
    if let Some(w) = a.waiting_list_entry {
        super::waiting::admitted(txn, w, &patient, id).await?;
    }
    let episode = Uuid::now_v7();
    txn.execute(stmt(
        "INSERT INTO episode (id, spell_id, seq, consultant, treatment_function, started_at)
         VALUES ($1, $2, 1, $3, $4, $5)",
        vec![
            episode.into(),
            id.into(),
            a.consultant.clone().into(),
            a.treatment_function.clone().into(),
            a.at.into(),
        ],
    ))
    .await?;
    let stay = match a.bed {
        Some(bed) => Some(open_stay(txn, bed, id, a.at).await?),
        None => None,
    };
    record_action(
        txn,
        id,
        "admission",
        a.at,
        &a.by,
        json!({ "ward_id": ward, "stay_id": stay, "episode_id": episode }),
    )
    .await?;
    Ok((spell(txn, SpellId::from(id)).await?, false))
}
