//! Keeps `known_patient` from the MPI's patient events: registered and updated patients are
//! known; a merge marks the merged-away record with its survivor; an unmerge clears the mark.
use futures::future::BoxFuture;
use prost::Message;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};
use tessera_events::{ConsumerSpec, Handler, HandlerError, InboundEvent};
use tessera_proto::mpi::v1 as mpi;
use uuid::Uuid;

/// The consumer that keeps the projection: group `<prefix>.known-patients`, the MPI's
/// `patient` stream.
pub fn consumer_spec(
    group_prefix: &str,
    only: Option<Vec<tessera_tenancy::TenantId>>,
) -> ConsumerSpec {
    ConsumerSpec {
        group: format!("{group_prefix}.known-patients"),
        service: "mpi".into(),
        stream: "patient".into(),
        max_attempts: 10,
        only,
    }
}

pub struct KnownPatients;

fn id(s: &str, what: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(s)
        .map_err(|_| HandlerError::refused("event.invalid-id", format!("{what} is not a UUID")))
}

async fn exec(
    txn: &DatabaseTransaction,
    sql: &str,
    values: Vec<Value>,
) -> Result<(), HandlerError> {
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

const KNOW: &str = "INSERT INTO known_patient (id) VALUES ($1) ON CONFLICT (id) DO NOTHING";

impl Handler for KnownPatients {
    fn handle<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        event: &'a InboundEvent,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let payload = event.payload.as_slice();
            let undecodable = |e| HandlerError::undecodable(event.ce_type.as_str(), e);
            match event.ce_type.as_str() {
                "uk.nhs.tessera.mpi.PatientRegistered.v1" => {
                    let p = mpi::PatientRegistered::decode(payload).map_err(undecodable)?;
                    exec(txn, KNOW, vec![id(&p.patient_id, "patient_id")?.into()]).await
                }
                "uk.nhs.tessera.mpi.PatientUpdated.v1" => {
                    let p = mpi::PatientUpdated::decode(payload).map_err(undecodable)?;
                    exec(txn, KNOW, vec![id(&p.patient_id, "patient_id")?.into()]).await
                }
                "uk.nhs.tessera.mpi.PatientMerged.v1" => {
                    let m = mpi::PatientMerged::decode(payload).map_err(undecodable)?;
                    let survivor = id(&m.survivor_patient_id, "survivor_patient_id")?;
                    let merged = id(&m.merged_patient_id, "merged_patient_id")?;
                    exec(txn, KNOW, vec![survivor.into()]).await?;
                    exec(
                        txn,
                        "INSERT INTO known_patient (id, merged_into) VALUES ($1, $2)
                         ON CONFLICT (id) DO UPDATE SET merged_into = EXCLUDED.merged_into",
                        vec![merged.into(), survivor.into()],
                    )
                    .await
                }
                "uk.nhs.tessera.mpi.PatientUnmerged.v1" => {
                    let m = mpi::PatientUnmerged::decode(payload).map_err(undecodable)?;
                    let merged = id(&m.merged_patient_id, "merged_patient_id")?;
                    exec(
                        txn,
                        "INSERT INTO known_patient (id) VALUES ($1)
                         ON CONFLICT (id) DO UPDATE SET merged_into = NULL",
                        vec![merged.into()],
                    )
                    .await
                }
                _ => Ok(()),
            }
        })
    }
}
