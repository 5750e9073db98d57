//! Finding referrals: by patient, UBRN, receiving team (the triage worklist) or state, newest
//! first, capped.
use super::referrals::SELECT;
use super::{stmt, Referral, StoreError};
use crate::domain::ReferralState;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use tessera_patients::PatientId;

#[derive(Debug, Clone, Default)]
pub struct ReferralSearch {
    pub patient_id: Option<PatientId>,
    pub ubrn: Option<String>,
    pub team: Option<String>,
    pub state: Option<ReferralState>,
    pub limit: u64,
    /// FHIR `_id`: only these referrals (empty: any).
    pub ids: Vec<String>,
    /// FHIR `_lastUpdated`: updated within `[from, to)`.
    pub updated: Option<tessera_fhir::search::Range>,
}

/// Referrals matching every given criterion, newest first.
pub async fn search_referrals<C: ConnectionTrait>(
    db: &C,
    s: &ReferralSearch,
) -> Result<Vec<Referral>, StoreError> {
    let mut sql = format!("{SELECT} WHERE true");
    let mut v: Vec<Value> = Vec::new();
    let mut add = |col: &str, val: String, sql: &mut String| {
        v.push(val.into());
        sql.push_str(&format!(" AND r.{col} = ${}", v.len()));
    };
    if let Some(p) = &s.patient_id {
        add("patient_id", p.to_string(), &mut sql);
    }
    if let Some(u) = &s.ubrn {
        add("ubrn", u.clone(), &mut sql);
    }
    if let Some(t) = &s.team {
        add("receiving_team", t.clone(), &mut sql);
    }
    if let Some(st) = s.state {
        add("state", st.as_str().to_string(), &mut sql);
    }
    sql.push_str(&format!(
        " ORDER BY r.created_at DESC LIMIT {}",
        s.limit.max(1)
    ));
    Ok(Referral::find_by_statement(stmt(&sql, v)).all(db).await?)
}
