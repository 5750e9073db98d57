//! The MPI's merges and unmerges (docs/contracts/merge.md): a merged-away patient's
//! appointments, rebooking entries and referrals seen follow the survivor, and come back on
//! an unmerge (`tessera_patients::repoint`); two booked appointments of the survivor at once
//! are left for a person as a merge review.
use crate::store;
use futures::future::BoxFuture;
use sea_orm::{DatabaseTransaction, DbErr};
use tessera_patients::repoint::{FollowMerges, Follows};

pub struct Merges;

impl FollowMerges for Merges {
    fn tables(&self) -> &'static [Follows] {
        &store::MERGE_TABLES
    }

    fn after_merge<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        merge_id: &'a str,
        _merged: &'a str,
        survivor: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(store::review_clashes(txn, merge_id, survivor))
    }
}
