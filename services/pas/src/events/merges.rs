//! The MPI's merges and unmerges (docs/contracts/merge.md): a merged-away patient's spells,
//! waiting list entries, attendances and activity follow the survivor, and come back on an
//! unmerge (`tessera_patients::repoint`). Two open spells of one person cannot both be: the
//! merged record's open spell stays where it is, and a merge review asks a person which is
//! wrong (cancel it, or discharge it).
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};
use tessera_patients::repoint::{self, FollowMerges, Follows};

const TABLES: [Follows; 4] = [
    Follows {
        table: "spell",
        key: "id",
        except: Some(
            "status = 'admitted' AND EXISTS (SELECT 1 FROM spell o WHERE o.patient_id = $2 AND o.status = 'admitted')",
        ),
    },
    Follows {
        table: "waiting_list_entry",
        key: "id",
        except: None,
    },
    Follows {
        table: "attendance",
        key: "appointment_id",
        except: None,
    },
    Follows {
        table: "activity",
        key: "id",
        except: None,
    },
];

pub struct Merges;

impl FollowMerges for Merges {
    fn tables(&self) -> &'static [Follows] {
        &TABLES
    }

    fn after_merge<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        merge_id: &'a str,
        merged: &'a str,
        survivor: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move {
            let open = txn
                .query_all(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT id::text AS id FROM spell WHERE patient_id IN ($1, $2) AND status = 'admitted' ORDER BY admitted_at",
                    [merged.into(), survivor.into()],
                ))
                .await?;
            if open.len() < 2 {
                return Ok(());
            }
            let ids: Vec<String> = open
                .iter()
                .filter_map(|r| r.try_get::<String>("", "id").ok())
                .collect();
            let detail = serde_json::json!({ "spells": ids, "left_with": merged });
            repoint::raise_review(txn, merge_id, survivor, "two-open-spells", detail).await
        })
    }
}
