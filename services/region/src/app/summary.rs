//! The regional summary (issue 21): one patient's care from every trust the access rules
//! let the viewer see. The viewer's trust is read in the request's audited transaction; each
//! other trust that holds a record of the same regional person in a savepoint of it, scoped
//! to that trust's schema, which also writes that trust's audit record of the read (permitted
//! or refused) — one commit for both sides, before the answer leaves. The rules (ADR 13, ADR 35):
//! the viewer's legitimate relationship with their own trust's patient (or break-glass) is
//! needed for anything; another trust's record also needs that patient's consent to share
//! with the viewer's trust, recorded in the other trust; every sealed item stays sealed.
//! Nothing here calls another service: the projections answer.
use super::viewer::{consent_of, holders, in_schema, shared_record, Holder, Viewer};
use super::{audited, Fail};
use crate::api::Authorized;
use crate::domain::{Summary, TrustPart, Withheld};
use crate::store::summary as read;
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
            let db = |e: sea_orm::DbErr| ApiError::database(&e);
            let (viewer, age) =
                Viewer::load(txn, &tenant, identity, activity, reach.trace.clone(), &pid)
                    .await
                    .map_err(db)?;
            let now = viewer.now;
            let own = viewer.decide(&tenant, SharingConsent::None, &Seal::None);
            // Only trusts this deployment serves (and has provisioned) are read.
            let (person, others) = holders(txn, &tenant, &pid, &registry).await.map_err(db)?;
            if !own.permit {
                // Refused here, so refused everywhere: each other trust records it too.
                for h in &others {
                    refused_elsewhere(&reach, &viewer, &h.trust, &h.ids, own.reason).await?;
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
            .map_err(db)?;
            add(
                &mut s,
                &viewer,
                &tenant,
                &viewer.mine,
                SharingConsent::None,
                "viewer",
                mine,
            );
            let mut parts = Vec::with_capacity(others.len());
            for h in &others {
                parts.push(elsewhere(txn, &viewer, h).await);
            }
            // Back in the viewer's schema for the request's own audit record.
            in_schema(txn, &tenant).await.map_err(db)?;
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
            let ending = Ending::decided(&pid, &own, Some(age.unwrap_or(-1)), 200, n);
            Ok((s, ending))
        })
    })
    .await
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
async fn elsewhere(txn: &DatabaseTransaction, v: &Viewer, h: &Holder) -> Elsewhere {
    match read_elsewhere(txn, v, h).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(trust = h.trust.as_str(), error = %e, "a trust's part of a summary could not be read");
            whole(h, "region.trust-unavailable")
        }
    }
}

/// A trust's record withheld as a whole, and why.
fn whole(h: &Holder, reason: &str) -> Elsewhere {
    Elsewhere::Withheld(
        TrustPart {
            trust: h.trust.as_str().into(),
            shown: false,
            reason: reason.into(),
            linked_by: h.linked_by.clone(),
            feeds: Vec::new(),
        },
        Withheld {
            trust: h.trust.as_str().into(),
            kind: "record".into(),
            reason: reason.into(),
        },
    )
}

async fn read_elsewhere(
    outer: &DatabaseTransaction,
    v: &Viewer,
    h: &Holder,
) -> Result<Elsewhere, sea_orm::DbErr> {
    let (trust, ids) = (&h.trust, h.ids.as_slice());
    let txn = outer.begin().await?;
    in_schema(&txn, trust).await?;
    let view = tessera_access::projection::load_in(&txn, trust, &v.identity, ids, v.now).await?;
    let (consent, access) = consent_of(&view, ids);
    let outcome = v.decide(trust, consent, &Seal::None);
    let part = if outcome.permit {
        Some(read::part(&txn, trust.as_str(), ids, v.now.date_naive()).await?)
    } else {
        None
    };
    let shown = part
        .as_ref()
        .map_or(0, |p| i32::try_from(p.items()).unwrap_or(i32::MAX));
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
            by: h.linked_by.clone(),
            part,
        },
        None => whole(h, outcome.reason),
    })
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
