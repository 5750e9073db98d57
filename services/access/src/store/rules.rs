//! Relationship end rules — how many days of grace a relationship of each origin keeps after
//! its care event closes — through a sea-orm entity: simple keyed CRUD reads best in the
//! query builder (ADR 25). The table is the tenant schema's (the transaction's search path).
use super::StoreError;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Set};

pub mod relationship_rule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "relationship_rule")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub origin: String,
        pub grace_days: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use relationship_rule::{ActiveModel, Column, Entity};

/// Sets the grace days of `origin`'s rule (creating it).
pub async fn set_rule<C: ConnectionTrait>(
    db: &C,
    origin: &str,
    days: i32,
) -> Result<(), StoreError> {
    Entity::insert(ActiveModel {
        origin: Set(origin.to_string()),
        grace_days: Set(days),
    })
    .on_conflict(
        OnConflict::column(Column::Origin)
            .update_column(Column::GraceDays)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Every rule, by origin.
pub async fn rules<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(Entity::find()
        .order_by_asc(Column::Origin)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.origin, i64::from(r.grace_days)))
        .collect())
}

/// The grace days of `origin`'s rule, or `default` when the trust has set none.
pub async fn grace_days<C: ConnectionTrait>(
    db: &C,
    origin: &str,
    default: i64,
) -> Result<i64, StoreError> {
    Ok(Entity::find_by_id(origin.to_string())
        .one(db)
        .await?
        .map_or(default, |r| i64::from(r.grace_days)))
}
