//! The matcher's proposals, decided by the patient index team of either trust: listed
//! (ids, scores and field levels only) and confirmed or rejected. Each leaves the deciding
//! trust's audit record, about its own record of the pair.
use super::{audited, Fail};
use crate::api::Authorized;
use crate::store::reviews::{self, Review};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;

pub async fn open(auth: &Authorized, limit: u64) -> Result<Vec<Review>, ApiError> {
    let tenant = auth.tenant.as_str().to_string();
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let list = reviews::open_for(txn, &tenant, limit)
                .await
                .map_err(|e| ApiError::database(&e))?;
            let n = i32::try_from(list.len()).unwrap_or(i32::MAX);
            Ok((list, Ending::permit(None, 200, n)))
        })
    })
    .await
}

pub async fn decide(auth: &Authorized, id: uuid::Uuid, confirm: bool) -> Result<Review, ApiError> {
    let tenant = auth.tenant.as_str().to_string();
    let by = auth.identity.user_id.clone();
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let r = reviews::decide(txn, id, &tenant, confirm, &by)
                .await
                .map_err(Fail::from)?;
            let own = if r.a_tenant == tenant {
                &r.a_patient
            } else {
                &r.b_patient
            };
            let ending = Ending::permit(Some(own.clone()), 200, 1);
            Ok((r, ending))
        })
    })
    .await
}
