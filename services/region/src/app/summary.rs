//! The regional summary (issue 21): one patient's care from every trust the access rules
//! let the viewer see. The viewer's trust is read in the request's audited transaction; each
//! other trust that holds a record of the same regional person in a transaction of its own,
//! scoped to its schema, which also writes that trust's audit record of the read (permitted or
//! refused) before it commits — all before the answer leaves. The rules (ADR 13, ADR 35):
//! the viewer's legitimate relationship with their own trust's patient (or break-glass) is
//! needed for anything; another trust's record also needs that patient's consent to share
//! with the viewer's trust, recorded in the other trust; every sealed item stays sealed.
//! Nothing here calls another service: the projections answer.
use super::viewer::{consent_of, in_schema, shared_record, Viewer};
use super::{audited, Fail};
use crate::api::Authorized;
use crate::domain::{Summary, TrustPart, Withheld};
use crate::store::{index, summary as read};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use std::sync::Arc;
use tessera_access::decision::{Outcome, Seal, SharingConsent};
use tessera_access::projection::PatientAccess;
use tessera_bootstrap::TraceContext;
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use tessera_patients::PatientId;
use tessera_tenancy::{TenantDb, TenantId};
use tokio::sync::Notify;

/// The audit action in the trust whose records were shown to another trust's user.
pub const SHARED_ACTION: &str = "region.summary.shared";

/// Where the other trusts' reads run, and how their audit records are labelled.
#[derive(Clone)]
struct Reach {
    db: TenantDb,
    relay: Arc<Notify>,
    trace: TraceContext,
}

pub async fn summary(auth: &Authorized, patient: PatientId) -> Result<Summary, ApiError> {
    let identity = auth.identity.clone();
    let activity = auth.state.config.roles.summary_activity.clone();
    let tenant = auth.tenant.clone();
    let registry = auth.state.gate.registry.clone();
    let reach = Reach {
        db: auth.state.gate.db.clone(),
        relay: auth.state.gate.relay.clone(),
        trace: auth.trace.clone(),
    };
    let pid = patient.to_string();
    audited(auth, Some(pid.clone()), move |txn| {
        Box::pin(async move {
            // Every trust's statements here are index lookups by patient id: a generic plan
            // serves them all, where a custom plan per execution spent more time planning
            // (0.3 ms) than executing (0.05 ms) the access projection's read (measured).
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
                .await
                .map_err(|e| ApiError::database(&e))?;
            super::known(txn, &patient).await?;
            let now = Utc::now();
            let view = tessera_access::projection::load_in(
                txn,
                &tenant.schema(),
                &identity,
                std::slice::from_ref(&pid),
                now,
            )
            .await
            .map_err(|e| ApiError::database(&e))?;
            let viewer = Viewer {
                identity,
                activity,
                teams: view.teams.clone(),
                mine: view.patient(&pid),
                now,
                trace: reach.trace.clone(),
            };
            let own = viewer.decide(&tenant, SharingConsent::None, &Seal::None);
            let person = index::person_of(txn, tenant.as_str(), &pid)
                .await
                .map_err(|e| ApiError::database(&e))?;
            let mut others = others(txn, person, &tenant).await?;
            // Only trusts this deployment serves (and has provisioned) are read.
            others.retain(|(t, _, _)| registry.is_ready(t));
            if !own.permit {
                // Refused here, so refused everywhere: each other trust records it too.
                for (trust, ids, _) in &others {
                    refused_elsewhere(&reach, &viewer, trust, ids, own.reason).await?;
                }
                return Err(Fail::denied(
                    &pid,
                    &own,
                    "no legitimate relationship with this patient in your trust",
                ));
            }
            let mut s = Summary {
                patient_id: pid.clone(),
                person_id: person,
                generated_at: now,
                trusts: Vec::new(),
                demographics: Vec::new(),
                referrals: Vec::new(),
                appointments: Vec::new(),
                admissions: Vec::new(),
                documents: Vec::new(),
                withheld: Vec::new(),
            };
            let mine = read::part(
                txn,
                tenant.as_str(),
                std::slice::from_ref(&pid),
                now.date_naive(),
            )
            .await
            .map_err(|e| ApiError::database(&e))?;
            let seals = viewer.mine.clone();
            add(
                &mut s,
                &viewer,
                &tenant,
                &seals,
                SharingConsent::None,
                "viewer",
                mine,
            );
            let mut parts = Vec::with_capacity(others.len());
            for (trust, ids, by) in &others {
                parts.push(elsewhere(txn, &viewer, trust, ids, by).await);
            }
            // Back in the viewer's schema for the request's own audit record.
            in_schema(txn, &tenant)
                .await
                .map_err(|e| ApiError::database(&e))?;
            for p in parts {
                match p {
                    Elsewhere::Shown {
                        trust,
                        access,
                        consent,
                        by,
                        part,
                    } => add(&mut s, &viewer, &trust, &access, consent, &by, part),
                    Elsewhere::Withheld(part, w) => {
                        s.trusts.push(part);
                        s.withheld.push(w);
                    }
                }
            }
            s.sort();
            let n = i32::try_from(s.shown()).unwrap_or(i32::MAX);
            let ending = Ending::decided(&pid, &own, Some(view.age_ms.unwrap_or(-1)), 200, n);
            Ok((s, ending))
        })
    })
    .await
}

/// The other trusts that hold a record of `person`: each with its ids and how it was linked.
async fn others(
    txn: &DatabaseTransaction,
    person: Option<uuid::Uuid>,
    viewer: &TenantId,
) -> Result<Vec<(TenantId, Vec<String>, String)>, Fail> {
    let Some(person) = person else {
        return Ok(Vec::new());
    };
    let members = index::members(txn, person)
        .await
        .map_err(|e| ApiError::database(&e))?;
    let mut out: Vec<(TenantId, Vec<String>, String)> = Vec::new();
    for m in members {
        let Ok(t) = TenantId::parse(&m.tenant) else {
            continue;
        };
        if &t == viewer {
            continue;
        }
        match out.iter_mut().find(|(x, _, _)| x == &t) {
            Some((_, ids, _)) => ids.push(m.patient_id),
            None => out.push((t, vec![m.patient_id], m.linked_by)),
        }
    }
    Ok(out)
}

/// Adds one trust's part, item by item under that trust's seals: what may not be seen is
/// listed as withheld.
fn add(
    s: &mut Summary,
    v: &Viewer,
    trust: &TenantId,
    access: &PatientAccess,
    consent: SharingConsent,
    linked_by: &str,
    part: read::Part,
) {
    let t = trust.as_str().to_string();
    let allows = |item: String| v.decide(trust, consent, access.seal(&item));
    let mut withheld = |kind: &str, o: Outcome| {
        s.withheld.push(Withheld {
            trust: t.clone(),
            kind: kind.into(),
            reason: o.reason.into(),
        })
    };
    let contact = allows("contact".into());
    let mut demographics = part.demographics;
    if !contact.permit {
        for d in &mut demographics {
            d.address = None;
            d.postcode = None;
            d.gp_practice = None;
        }
        if !demographics.is_empty() {
            withheld("contact", contact);
        }
    }
    let mut documents = Vec::new();
    for d in part.documents {
        let o = allows(format!("document:{}", d.id));
        if o.permit {
            documents.push(d);
        } else {
            withheld("document", o);
        }
    }
    let mut admissions = Vec::new();
    for a in part.admissions {
        let o = allows(format!("encounter:{}", a.id));
        if o.permit {
            admissions.push(a);
        } else {
            withheld("admission", o);
        }
    }
    s.trusts.push(TrustPart {
        trust: t,
        shown: true,
        reason: "ok".into(),
        linked_by: linked_by.into(),
        feeds: part.feeds,
    });
    s.demographics.extend(demographics);
    s.referrals.extend(part.referrals);
    s.appointments.extend(part.appointments);
    s.admissions.extend(admissions);
    s.documents.extend(documents);
}

enum Elsewhere {
    Shown {
        trust: TenantId,
        access: PatientAccess,
        consent: SharingConsent,
        by: String,
        part: read::Part,
    },
    Withheld(TrustPart, Withheld),
}

/// One other trust's part, read and audited in a savepoint of the request's transaction
/// scoped to that trust's schema: its audit record commits with the viewer's, or neither
/// does. A trust that cannot be read now (its schema not ready, a database error) is rolled
/// back to the savepoint and shown as unavailable: one trust never fails the others.
async fn elsewhere(
    txn: &DatabaseTransaction,
    v: &Viewer,
    trust: &TenantId,
    ids: &[String],
    by: &str,
) -> Elsewhere {
    let unavailable = |reason: &str| {
        Elsewhere::Withheld(
            TrustPart {
                trust: trust.as_str().into(),
                shown: false,
                reason: reason.into(),
                linked_by: by.into(),
                feeds: Vec::new(),
            },
            Withheld {
                trust: trust.as_str().into(),
                kind: "record".into(),
                reason: reason.into(),
            },
        )
    };
    match read_elsewhere(txn, v, trust, ids, by).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(trust = trust.as_str(), error = %e, "a trust's part of a summary could not be read");
            unavailable("region.trust-unavailable")
        }
    }
}

async fn read_elsewhere(
    outer: &DatabaseTransaction,
    v: &Viewer,
    trust: &TenantId,
    ids: &[String],
    by: &str,
) -> Result<Elsewhere, sea_orm::DbErr> {
    let txn = outer.begin().await?;
    in_schema(&txn, trust).await?;
    let view =
        tessera_access::projection::load_in(&txn, &trust.schema(), &v.identity, ids, v.now).await?;
    let (consent, access) = consent_of(&view, ids);
    let outcome = v.decide(trust, consent, &Seal::None);
    let part = if outcome.permit {
        Some(read::part(&txn, trust.as_str(), ids, v.now.date_naive()).await?)
    } else {
        None
    };
    let shown = part.as_ref().map(count).unwrap_or(0);
    for id in ids {
        let record = shared_record(v, SHARED_ACTION, trust, id, &outcome, shown, view.age_ms);
        tessera_audit::write(&txn, &record)
            .await
            .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    }
    txn.commit().await?;
    Ok(match part {
        Some(part) => Elsewhere::Shown {
            trust: trust.clone(),
            access,
            consent,
            by: by.into(),
            part,
        },
        None => Elsewhere::Withheld(
            TrustPart {
                trust: trust.as_str().into(),
                shown: false,
                reason: outcome.reason.into(),
                linked_by: by.into(),
                feeds: Vec::new(),
            },
            Withheld {
                trust: trust.as_str().into(),
                kind: "record".into(),
                reason: outcome.reason.into(),
            },
        ),
    })
}

fn count(p: &read::Part) -> i32 {
    let n = p.demographics.len()
        + p.referrals.len()
        + p.appointments.len()
        + p.admissions.len()
        + p.documents.len();
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The viewer was refused in their own trust: each other trust holding the person records
/// the refusal of its part too.
async fn refused_elsewhere(
    reach: &Reach,
    v: &Viewer,
    trust: &TenantId,
    ids: &[String],
    reason: &'static str,
) -> Result<(), Fail> {
    let outcome = Outcome {
        permit: false,
        reason,
        alert: false,
    };
    let txn = reach
        .db
        .begin(trust)
        .await
        .map_err(|tessera_tenancy::DbError::Db(e)| ApiError::database(&e))?;
    for id in ids {
        let record = shared_record(v, SHARED_ACTION, trust, id, &outcome, 0, None);
        tessera_audit::write(&txn, &record)
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    txn.commit().await.map_err(|e| ApiError::database(&e))?;
    reach.relay.notify_one();
    Ok(())
}
