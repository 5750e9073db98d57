//! What this service tells the others, through the outbox in the transaction that makes the
//! change (keyed by patient id; Protobuf in `proto/tessera/clinicaldocs/v1/`), on
//! `tessera.<ods>.clinical-docs.document`: `DocumentCreated`, `VersionAdded` (every later
//! version), `DocumentSigned` (the document became final), `DocumentEnteredInError`,
//! `LetterReady`. Content never travels: consumers read it through the API.
use super::documents::Document;
use super::StoreError;
use chrono::{DateTime, SecondsFormat, Utc};
use prost::Message as _;
use sea_orm::DatabaseTransaction;
use tessera_bootstrap::TraceContext;
use tessera_events::{enqueue, OutgoingEvent};
use tessera_proto::clinicaldocs::v1 as pb;
use tessera_tenancy::TenantId;

pub mod types {
    pub const CREATED: &str = "uk.nhs.tessera.clinicaldocs.DocumentCreated.v1";
    pub const VERSION_ADDED: &str = "uk.nhs.tessera.clinicaldocs.VersionAdded.v1";
    pub const SIGNED: &str = "uk.nhs.tessera.clinicaldocs.DocumentSigned.v1";
    pub const ENTERED_IN_ERROR: &str = "uk.nhs.tessera.clinicaldocs.DocumentEnteredInError.v1";
    pub const LETTER_READY: &str = "uk.nhs.tessera.clinicaldocs.LetterReady.v1";
    pub const SHARED: &str = "uk.nhs.tessera.clinicaldocs.DocumentShared.v1";
}

/// Where and under which trace an event goes.
#[derive(Clone)]
pub struct Publish {
    pub tenant: TenantId,
    pub trace: Option<TraceContext>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Publish {
    async fn send(
        &self,
        txn: &DatabaseTransaction,
        ce_type: &str,
        patient_id: &str,
        payload: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.send_on(txn, "document", ce_type, patient_id, payload)
            .await
    }

    async fn send_on(
        &self,
        txn: &DatabaseTransaction,
        stream: &str,
        ce_type: &str,
        patient_id: &str,
        payload: Vec<u8>,
    ) -> Result<(), StoreError> {
        enqueue(
            txn,
            OutgoingEvent {
                topic: self.tenant.topic("clinical-docs", stream),
                key: patient_id.to_string(),
                ce_type: ce_type.into(),
                source: "/tessera/clinical-docs".into(),
                subject: Some(patient_id.to_string()),
                payload,
                trace: self.trace.clone(),
            },
        )
        .await?;
        Ok(())
    }

    pub async fn created(&self, txn: &DatabaseTransaction, d: &Document) -> Result<(), StoreError> {
        let m = pb::DocumentCreated {
            document_id: d.id.to_string(),
            patient_id: d.patient_id.clone(),
            type_code: d.type_code.clone(),
            author_user_id: d.author_user.clone(),
            context_kind: d.context_kind.clone().unwrap_or_default(),
            context_id: d.context_id.map(|c| c.to_string()).unwrap_or_default(),
            created_at: time(d.created_at),
            title: d.title.clone(),
        };
        self.send(txn, types::CREATED, &d.patient_id, m.encode_to_vec())
            .await
    }

    /// The events of a new version: always `VersionAdded`; `DocumentSigned` when it made the
    /// document final; `DocumentEnteredInError` when it marked it so.
    pub async fn changed(
        &self,
        txn: &DatabaseTransaction,
        d: &Document,
        action: &str,
        by: &str,
    ) -> Result<(), StoreError> {
        let m = pb::VersionAdded {
            document_id: d.id.to_string(),
            patient_id: d.patient_id.clone(),
            version: d.version,
            action: action.into(),
            status: d.status.clone(),
            by_user_id: by.into(),
            sha256: d.sha256.clone(),
            recorded_at: time(d.updated_at),
            title: d.title.clone(),
        };
        self.send(txn, types::VERSION_ADDED, &d.patient_id, m.encode_to_vec())
            .await?;
        if d.status == "final" && matches!(action, "signed" | "countersigned" | "section-signed") {
            let m = pb::DocumentSigned {
                document_id: d.id.to_string(),
                patient_id: d.patient_id.clone(),
                version: d.version,
                type_code: d.type_code.clone(),
                signed_by: d.signed_by.clone().unwrap_or_default(),
                countersigned_by: d.countersigned_by.clone().unwrap_or_default(),
                signed_at: time(d.updated_at),
            };
            self.send(txn, types::SIGNED, &d.patient_id, m.encode_to_vec())
                .await?;
        }
        // The record's content, for the regional care record: each signed version, and its
        // withdrawal when entered in error (never a draft).
        let signed = matches!(d.status.as_str(), "final" | "amended")
            && matches!(
                action,
                "signed" | "countersigned" | "section-signed" | "amended"
            );
        if signed || action == "entered-in-error" {
            let withdrawn = action == "entered-in-error";
            let m = pb::DocumentShared {
                document_id: d.id.to_string(),
                patient_id: d.patient_id.clone(),
                version: d.version,
                content_type: d.content_type.clone(),
                content: if withdrawn {
                    Vec::new()
                } else {
                    d.content.clone()
                },
                sha256: d.sha256.clone(),
                withdrawn,
                recorded_at: time(d.updated_at),
            };
            self.send_on(
                txn,
                "shared",
                types::SHARED,
                &d.patient_id,
                m.encode_to_vec(),
            )
            .await?;
        }
        if action == "entered-in-error" {
            let m = pb::DocumentEnteredInError {
                document_id: d.id.to_string(),
                patient_id: d.patient_id.clone(),
                version: d.version,
                by_user_id: by.into(),
                recorded_at: time(d.updated_at),
            };
            self.send(
                txn,
                types::ENTERED_IN_ERROR,
                &d.patient_id,
                m.encode_to_vec(),
            )
            .await?;
        }
        Ok(())
    }

    pub async fn letter_ready(
        &self,
        txn: &DatabaseTransaction,
        d: &Document,
        to: &str,
        sha: &str,
    ) -> Result<(), StoreError> {
        let m = pb::LetterReady {
            document_id: d.id.to_string(),
            patient_id: d.patient_id.clone(),
            version: d.version,
            gp_practice: to.into(),
            pdf_sha256: sha.into(),
            ready_at: time(d.updated_at),
        };
        self.send(txn, types::LETTER_READY, &d.patient_id, m.encode_to_vec())
            .await
    }
}
