//! The writes a load acknowledged, against the rows the services hold (none lost, none
//! doubled), and the patients other services name, against the MPI's.
use super::{count, CheckReport};
use crate::journal::Write;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::collections::{HashMap, HashSet};

#[allow(clippy::too_many_arguments)]
pub(super) async fn check_writes(
    r: &mut CheckReport,
    db: &DatabaseConnection,
    schema: &str,
    (table, at, only): (&str, &str, &str),
    writes: &[&Write],
    window: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    trust: &str,
    kind: &str,
) -> Result<(), String> {
    let acked: Vec<uuid::Uuid> = writes
        .iter()
        .filter(|w| w.acknowledged())
        .filter_map(|w| w.id.as_deref().and_then(|i| uuid::Uuid::parse_str(i).ok()))
        .collect();
    let ambiguous = writes.iter().filter(|w| w.ambiguous()).count() as i64;
    let found = if acked.is_empty() {
        0
    } else {
        // Parsed UUIDs only: nothing from outside reaches the statement's text.
        let list: Vec<String> = acked.iter().map(|u| format!("'{u}'")).collect();
        count(
            db,
            &format!(
                "SELECT count(*) AS n FROM \"{schema}\".{table} WHERE id IN ({})",
                list.join(",")
            ),
            vec![],
        )
        .await?
    };
    r.verdict(
        found == acked.len() as i64,
        format!(
            "{trust}: {found} of {} acknowledged {kind} writes exist",
            acked.len()
        ),
    );
    let created = count(
        db,
        &format!("SELECT count(*) AS n FROM \"{schema}\".{table} WHERE {at} BETWEEN $1 AND $2 AND {only}"),
        vec![window.0.into(), window.1.into()],
    )
    .await?;
    let most = acked.len() as i64 + ambiguous;
    r.verdict(
        created >= acked.len() as i64 && created <= most,
        format!("{trust}: {created} {kind} rows created in the run, for {} acknowledged and {ambiguous} unanswered writes (none doubled)", acked.len()),
    );
    Ok(())
}

/// The trust's live patients, and where each merged-away one went.
pub(super) async fn patients(
    db: &DatabaseConnection,
    schema: &str,
) -> Result<(HashSet<String>, HashMap<String, String>), String> {
    let rows = db
        .query_all(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT id::text AS id, merged_into::text AS m FROM \"{schema}\".patient"),
        ))
        .await
        .map_err(|e| e.to_string())?;
    let (mut live, mut merged) = (HashSet::new(), HashMap::new());
    for row in rows {
        let id: String = row.try_get("", "id").map_err(|e| e.to_string())?;
        match row
            .try_get::<Option<String>>("", "m")
            .map_err(|e| e.to_string())?
        {
            Some(m) => {
                merged.insert(id, m);
            }
            None => {
                live.insert(id);
            }
        }
    }
    Ok((live, merged))
}

/// Whether `id` is a live patient, or merged (over at most ten hops) into one.
pub(super) fn resolves(id: &str, live: &HashSet<String>, merged: &HashMap<String, String>) -> bool {
    let mut at = id.to_string();
    for _ in 0..10 {
        if live.contains(&at) {
            return true;
        }
        match merged.get(&at) {
            Some(next) => at = next.clone(),
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_resolves_through_its_merges_and_never_round_a_loop() {
        let live: HashSet<String> = ["c".to_string()].into();
        let merged: HashMap<String, String> = [("a", "b"), ("b", "c"), ("x", "y"), ("y", "x")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(resolves("a", &live, &merged) && resolves("c", &live, &merged));
        assert!(!resolves("x", &live, &merged));
        assert!(!resolves("nobody", &live, &merged));
    }
}
