//! The worklists read from the referrals the trust holds: ready to book, and
//! appointment-slot issues; and the merge reviews. Reads of the caller's trust, audited like
//! any other.
use super::{audited, Fail};
use crate::api::Authorized;
use crate::store::{self, MergeReview, ReadyFilter, ReadyItem};
use tessera_edge::gate::Ending;
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
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let items = match list {
                Worklist::ReadyToBook => store::ready_to_book(txn, &f).await,
                Worklist::SlotIssues => store::slot_issues(txn, &f).await,
            }
            .map_err(Fail::from)?;
            let n = i32::try_from(items.len()).unwrap_or(i32::MAX);
            Ok((items, Ending::permit(None, 200, n)))
        })
    })
    .await
}

/// Open merge reviews: what a merge left for a person (two booked appointments at once).
pub async fn merge_reviews(auth: &Authorized, limit: u64) -> Result<Vec<MergeReview>, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let items = store::merge_reviews(txn, limit).await.map_err(Fail::from)?;
            let n = i32::try_from(items.len()).unwrap_or(i32::MAX);
            Ok((items, Ending::permit(None, 200, n)))
        })
    })
    .await
}
