//! Wards and beds: set up, listed, the bed board, a bed's own state.
use super::{audited, listed, Fail};
use crate::api::Authorized;
use crate::domain::{BedId, BedState, NewWard, WardId};
use crate::store::{self, BoardBed, Ward};
use tessera_edge::gate::Ending;
use tessera_edge::problem::ApiError;

pub async fn create_ward(auth: &Authorized, w: NewWard) -> Result<Ward, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let ward = store::create_ward(txn, &w).await.map_err(Fail::from)?;
            Ok((ward, Ending::permit(None, 201, 1)))
        })
    })
    .await
}

pub async fn wards(auth: &Authorized) -> Result<Vec<Ward>, ApiError> {
    listed(auth, None, |txn| Box::pin(store::wards(txn))).await
}

/// The ward's beds, each with its state and patient: one audited read listing no patient
/// (the board names patients by id only; their details come from the MPI, audited there).
pub async fn board(auth: &Authorized, ward: WardId) -> Result<Vec<BoardBed>, ApiError> {
    listed(auth, None, move |txn| Box::pin(store::board(txn, ward))).await
}

pub async fn set_bed_state(
    auth: &Authorized,
    bed: BedId,
    state: BedState,
) -> Result<BoardBed, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let b = store::set_bed_state(txn, bed, state)
                .await
                .map_err(Fail::from)?;
            Ok((b, Ending::permit(None, 200, 1)))
        })
    })
    .await
}

pub async fn ward(auth: &Authorized, id: WardId) -> Result<Ward, ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let w = store::ward(txn, id).await.map_err(Fail::from)?;
            Ok((w, Ending::permit(None, 200, 1)))
        })
    })
    .await
}

pub async fn bed(auth: &Authorized, id: BedId) -> Result<(BoardBed, Ward), ApiError> {
    audited(auth, None, move |txn| {
        Box::pin(async move {
            let b = store::bed(txn, id).await.map_err(Fail::from)?;
            let w = store::ward(txn, WardId::from(b.ward_id))
                .await
                .map_err(Fail::from)?;
            Ok(((b, w), Ending::permit(None, 200, 1)))
        })
    })
    .await
}
