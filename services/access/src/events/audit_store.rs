//! Every service's audit stream (`tessera.<ods>.audit.events`) into the audit store: one
//! chain lock per consumer transaction, then each record appended to the trust's chain.
use crate::store;
use futures::future::BoxFuture;
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_events::{Handler, HandlerError, InboundEvent};
use tessera_proto::audit;

pub struct AuditStore;

impl Handler for AuditStore {
    fn begin<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            store::lock_audit_chain(txn)
                .await
                .map_err(HandlerError::store)
        })
    }

    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if event.ce_type != tessera_audit::EVENT_TYPE {
                return Ok(());
            }
            let record = audit::v1::AuditRecord::decode(event.payload.as_slice())
                .map_err(|e| HandlerError::undecodable("audit record", e))?;
            store::append_audit(
                txn,
                &event.event_id.to_string(),
                event.payload.clone(),
                &record,
            )
            .await
            .map(|_| ())
            .map_err(HandlerError::store)
        })
    }
}
