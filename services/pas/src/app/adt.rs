//! The ADT exception list: messages from the trust's old PAS that could not be applied.
use super::{audited, listed, Fail};
use crate::api::Authorized;
use crate::store::adt::{self, Exception};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;
use uuid::Uuid;

pub async fn exceptions(auth: &Authorized, limit: u64) -> Result<Vec<Exception>, ApiError> {
    listed(auth, None, move |txn| Box::pin(adt::exceptions(txn, limit))).await
}

pub async fn resolve(auth: &Authorized, id: Uuid) -> Result<Exception, ApiError> {
    let by = auth.identity.user_id.clone();
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let e = adt::resolve(txn, id, &by).await.map_err(Fail::from)?;
            let patient = Some(e.patient_id.clone());
            Ok((e, Ending::permit(patient, 200, 1)))
        })
    })
    .await
}
