//! The worklists read from the referrals the trust holds: ready to book, and
//! appointment-slot issues; and the merge reviews. Reads of the caller's trust, audited like
//! any other.
use super::listed;
use crate::api::Authorized;
use crate::store::{self, MergeReview, ReadyFilter, ReadyItem};
use tessera_edge::problem::ApiError;

/// Which list.
#[derive(Debug, Clone, Copy)]
pub enum Worklist {
    ReadyToBook,
    SlotIssues,
}

pub async fn referrals(
    auth: &Authorized,
    list: Worklist,
    f: ReadyFilter,
) -> Result<Vec<ReadyItem>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(async move {
            match list {
                Worklist::ReadyToBook => store::ready_to_book(txn, &f).await,
                Worklist::SlotIssues => store::slot_issues(txn, &f).await,
            }
        })
    })
    .await
}

/// Open merge reviews: what a merge left for a person (two booked appointments at once).
pub async fn merge_reviews(auth: &Authorized, limit: u64) -> Result<Vec<MergeReview>, ApiError> {
    listed(auth, None, move |txn| {
        Box::pin(store::merge_reviews(txn, limit))
    })
    .await
}
