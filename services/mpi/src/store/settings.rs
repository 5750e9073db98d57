//! A tenant's own matching model: weights learned from its records and its thresholds.
use super::patients::stmt;
use super::StoreError;
use crate::domain::Demographics;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};
use tessera_matching::Model;

pub struct Stored {
    pub model: Model,
    pub trained_on: i64,
    pub trained_at: DateTime<Utc>,
    pub auto_link: bool,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stored(trained on {})", self.trained_on)
    }
}

#[derive(FromQueryResult)]
struct Row {
    model: serde_json::Value,
    trained_on: i64,
    trained_at: DateTime<Utc>,
    auto_link: bool,
}

pub async fn load(txn: &DatabaseTransaction) -> Result<Option<Stored>, StoreError> {
    let Some(row) = Row::find_by_statement(stmt(
        "SELECT model, trained_on, trained_at, auto_link FROM match_settings",
        vec![],
    ))
    .one(txn)
    .await?
    else {
        return Ok(None);
    };
    let m: Model = serde_json::from_value(row.model)?;
    // The level weights are derived, not stored: rebuild them.
    Ok(Some(Stored {
        model: Model::from_params(m.params, m.thresholds, m.prior),
        trained_on: row.trained_on,
        trained_at: row.trained_at,
        auto_link: row.auto_link,
    }))
}

pub async fn save(
    txn: &DatabaseTransaction,
    model: &Model,
    trained_on: i64,
    auto_link: bool,
) -> Result<DateTime<Utc>, StoreError> {
    let now = Utc::now().trunc_subsecs(6);
    txn.execute(stmt(
        "INSERT INTO match_settings (singleton, model, trained_on, trained_at, auto_link) VALUES (true, $1, $2, $3, $4)
         ON CONFLICT (singleton) DO UPDATE SET model = EXCLUDED.model, trained_on = EXCLUDED.trained_on,
                                               trained_at = EXCLUDED.trained_at, auto_link = EXCLUDED.auto_link",
        vec![serde_json::to_value(model)?.into(), trained_on.into(), now.into(), auto_link.into()],
    ))
    .await?;
    Ok(now)
}

/// Up to `limit` active patients' demographics, newest first: what a model learns from.
pub async fn sample(
    txn: &DatabaseTransaction,
    limit: u64,
) -> Result<Vec<Demographics>, StoreError> {
    #[derive(FromQueryResult)]
    struct D {
        demographics: serde_json::Value,
    }
    D::find_by_statement(stmt(
        "SELECT demographics FROM patient WHERE merged_into IS NULL ORDER BY id DESC LIMIT $1",
        vec![(limit as i64).into()],
    ))
    .all(txn)
    .await?
    .into_iter()
    .map(|d| Ok(serde_json::from_value(d.demographics)?))
    .collect()
}
