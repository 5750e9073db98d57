//! The regional index (schema `region`): which trusts' patient records are one person. A
//! record joins the person whose other records share its **verified** NHS number; otherwise
//! it is a person of its own until a reviewer confirms the matcher's proposal
//! ([`super::reviews`]). A merge in a trust retires the merged record and brings the people
//! it was linked to over to the survivor's person; its unmerge puts them back.
use super::stmt;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr, FromQueryResult};
use uuid::Uuid;

/// One trust's record of a person.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Member {
    pub tenant: String,
    pub patient_id: String,
    pub linked_by: String,
}

async fn exec(
    txn: &DatabaseTransaction,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<(), DbErr> {
    txn.execute(stmt(sql, values)).await.map(|_| ())
}

/// The person a trust's record is, if the index has it.
pub async fn person_of<C: ConnectionTrait>(
    db: &C,
    tenant: &str,
    patient: &str,
) -> Result<Option<Uuid>, DbErr> {
    let row = db
        .query_one(stmt(
            "SELECT person_id FROM region.member WHERE tenant = $1 AND patient_id = $2",
            vec![tenant.into(), patient.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<Uuid>("", "person_id")).transpose()
}

/// Every trust's record of `person`.
pub async fn members<C: ConnectionTrait>(db: &C, person: Uuid) -> Result<Vec<Member>, DbErr> {
    Member::find_by_statement(stmt(
        "SELECT tenant, patient_id, linked_by FROM region.member WHERE person_id = $1
          ORDER BY tenant, patient_id",
        vec![person.into()],
    ))
    .all(db)
    .await
}

/// The person `patient` of `tenant` is, and every trust's record of that person (the
/// record itself included), in one statement; no person: not in the index.
pub async fn person_and_members<C: ConnectionTrait>(
    db: &C,
    tenant: &str,
    patient: &str,
) -> Result<(Option<Uuid>, Vec<Member>), DbErr> {
    let rows = db
        .query_all(stmt(
            "SELECT person_id, tenant, patient_id, linked_by FROM region.member
              WHERE person_id = (SELECT person_id FROM region.member
                                  WHERE tenant = $1 AND patient_id = $2)
              ORDER BY tenant, patient_id",
            vec![tenant.into(), patient.into()],
        ))
        .await?;
    let person = rows
        .first()
        .map(|r| r.try_get::<Uuid>("", "person_id"))
        .transpose()?;
    let members = rows
        .iter()
        .map(|r| Member::from_query_result(r, ""))
        .collect::<Result<_, _>>()?;
    Ok((person, members))
}

/// How a record stands in the index after its newest demographics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    /// Joined (or stays with) a person other trusts' records also are.
    WithOthers,
    /// A person of its own: the matcher may propose a link.
    Alone,
}

/// Puts the record in the index, by its verified NHS number if it has one (`verified`).
pub async fn link(
    txn: &DatabaseTransaction,
    tenant: &str,
    patient: &str,
    verified: Option<&str>,
) -> Result<Linked, DbErr> {
    if let Some(nhs) = verified {
        // Two trusts registering one person at once wait for each other here, so they agree.
        exec(
            txn,
            "SELECT pg_advisory_xact_lock(hashtextextended('region-nhs:' || $1, 0))",
            vec![nhs.into()],
        )
        .await?;
    }
    let other = match verified {
        Some(nhs) => txn
            .query_one(stmt(
                "SELECT person_id FROM region.member
                  WHERE nhs_number = $1 AND NOT (tenant = $2 AND patient_id = $3)
                  ORDER BY linked_at LIMIT 1",
                vec![nhs.into(), tenant.into(), patient.into()],
            ))
            .await?
            .map(|r| r.try_get::<Uuid>("", "person_id"))
            .transpose()?,
        None => None,
    };
    let current = person_of(txn, tenant, patient).await?;
    let nhs = verified.map(str::to_string);
    match (current, other) {
        (None, Some(p)) => insert(txn, tenant, patient, p, "nhs-number", nhs).await?,
        (None, None) => insert(txn, tenant, patient, Uuid::now_v7(), "first", nhs).await?,
        (Some(c), Some(p)) if c != p => exec(
            txn,
            "UPDATE region.member SET person_id = $3, linked_by = 'nhs-number', nhs_number = $4,
                        linked_at = $5 WHERE tenant = $1 AND patient_id = $2",
            vec![
                tenant.into(),
                patient.into(),
                p.into(),
                nhs.into(),
                Utc::now().into(),
            ],
        )
        .await?,
        (Some(_), _) => {
            exec(
                txn,
                "UPDATE region.member SET nhs_number = $3 WHERE tenant = $1 AND patient_id = $2",
                vec![tenant.into(), patient.into(), nhs.into()],
            )
            .await?
        }
    }
    let person = person_of(txn, tenant, patient).await?;
    let n = match person {
        Some(p) => members(txn, p).await?.len(),
        None => 0,
    };
    Ok(if n > 1 {
        Linked::WithOthers
    } else {
        Linked::Alone
    })
}

async fn insert(
    txn: &DatabaseTransaction,
    tenant: &str,
    patient: &str,
    person: Uuid,
    by: &str,
    nhs: Option<String>,
) -> Result<(), DbErr> {
    exec(
        txn,
        "INSERT INTO region.member (tenant, patient_id, person_id, linked_by, nhs_number, linked_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, patient_id) DO NOTHING",
        vec![
            tenant.into(),
            patient.into(),
            person.into(),
            by.into(),
            nhs.into(),
            Utc::now().into(),
        ],
    )
    .await
}

/// Moves every record of person `from` to person `to` (`by`: why), noting each under
/// `merge_id` when a trust's merge did it.
pub async fn join(
    txn: &DatabaseTransaction,
    from: Uuid,
    to: Uuid,
    by: &str,
    merge_id: Option<&str>,
) -> Result<(), DbErr> {
    if from == to {
        return Ok(());
    }
    if let Some(m) = merge_id {
        exec(
            txn,
            "INSERT INTO region.merge_move (merge_id, tenant, patient_id, from_person)
             SELECT $1, tenant, patient_id, person_id FROM region.member WHERE person_id = $2
             ON CONFLICT DO NOTHING",
            vec![m.into(), from.into()],
        )
        .await?;
    }
    exec(
        txn,
        "UPDATE region.member SET person_id = $2, linked_by = $3, linked_at = $4 WHERE person_id = $1",
        vec![from.into(), to.into(), by.into(), Utc::now().into()],
    )
    .await
}

/// A trust merged `merged` into `survivor`: the merged record leaves the index (kept in
/// `merge_move` for the unmerge), and the people it was linked to join the survivor's.
pub async fn merge(
    txn: &DatabaseTransaction,
    merge_id: &str,
    tenant: &str,
    merged: &str,
    survivor: &str,
) -> Result<(), DbErr> {
    let Some(from) = person_of(txn, tenant, merged).await? else {
        return Ok(());
    };
    exec(
        txn,
        "INSERT INTO region.merge_move (merge_id, tenant, patient_id, from_person)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        vec![merge_id.into(), tenant.into(), merged.into(), from.into()],
    )
    .await?;
    exec(
        txn,
        "DELETE FROM region.member WHERE tenant = $1 AND patient_id = $2",
        vec![tenant.into(), merged.into()],
    )
    .await?;
    if let Some(to) = person_of(txn, tenant, survivor).await? {
        join(txn, from, to, "nhs-number", Some(merge_id)).await?;
    }
    Ok(())
}

/// The merge undone: the restored record comes back as the person it was, and the records
/// the merge brought over go back.
pub async fn unmerge(txn: &DatabaseTransaction, merge_id: &str) -> Result<(), DbErr> {
    let moved = txn
        .query_all(stmt(
            "DELETE FROM region.merge_move WHERE merge_id = $1
             RETURNING tenant, patient_id, from_person",
            vec![merge_id.into()],
        ))
        .await?;
    for r in moved {
        let (tenant, patient, from): (String, String, Uuid) = (
            r.try_get("", "tenant")?,
            r.try_get("", "patient_id")?,
            r.try_get("", "from_person")?,
        );
        exec(
            txn,
            "INSERT INTO region.member (tenant, patient_id, person_id, linked_by, linked_at)
             VALUES ($1, $2, $3, 'first', $4)
             ON CONFLICT (tenant, patient_id) DO UPDATE SET person_id = EXCLUDED.person_id",
            vec![
                tenant.into(),
                patient.into(),
                from.into(),
                Utc::now().into(),
            ],
        )
        .await?;
    }
    Ok(())
}
