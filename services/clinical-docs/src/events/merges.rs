//! The MPI's merges and unmerges (docs/contracts/merge.md): a merged-away patient's documents
//! follow the survivor, and come back on an unmerge (`tessera_patients::repoint`). A
//! document's versions name no patient: they follow their document. Nothing here can clash,
//! so no merge review is raised.
use futures::future::BoxFuture;
use sea_orm::{DatabaseTransaction, DbErr};
use tessera_patients::repoint::{FollowMerges, Follows};

const TABLES: [Follows; 1] = [Follows {
    table: "document",
    key: "id",
    except: None,
}];

pub struct Merges;

impl FollowMerges for Merges {
    fn tables(&self) -> &'static [Follows] {
        &TABLES
    }

    fn after_merge<'a>(
        &'a self,
        _txn: &'a DatabaseTransaction,
        _merge_id: &'a str,
        _merged: &'a str,
        _survivor: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async { Ok(()) })
    }
}
