//! The MPI's events, as written to the outbox: PatientRegistered, PatientUpdated,
//! PatientMerged and PatientUnmerged on `tessera.<ods>.mpi.patient`, keyed by patient id
//! (the merged-away id for merges).
use crate::domain::{Demographics, Patient, PatientId};
use crate::store::merges::Merge;
use prost::Message as _;
use tessera_bootstrap::TraceContext;
use tessera_events::OutgoingEvent;
use tessera_proto::mpi::v1 as wire;
use tessera_tenancy::TenantId;

pub const SOURCE: &str = "/tessera/mpi";
pub const PATIENT_REGISTERED: &str = "uk.nhs.tessera.mpi.PatientRegistered.v1";
pub const PATIENT_UPDATED: &str = "uk.nhs.tessera.mpi.PatientUpdated.v1";
pub const PATIENT_MERGED: &str = "uk.nhs.tessera.mpi.PatientMerged.v1";
pub const PATIENT_UNMERGED: &str = "uk.nhs.tessera.mpi.PatientUnmerged.v1";
pub const ADT_FORWARDED: &str = "uk.nhs.tessera.mpi.AdtForwarded.v1";

/// An ADT encounter message's encounter part, for the PAS service
/// (`tessera.<ods>.mpi.adt`, keyed by the patient).
pub fn adt_forwarded(
    tenant: &TenantId,
    m: wire::AdtForwarded,
    trace: &TraceContext,
) -> OutgoingEvent {
    let key = m.patient_id.clone();
    OutgoingEvent {
        topic: tenant.topic("mpi", "adt"),
        key: key.clone(),
        ce_type: ADT_FORWARDED.into(),
        source: SOURCE.into(),
        subject: Some(key),
        payload: m.encode_to_vec(),
        trace: Some(trace.clone()),
    }
}

/// The demographics as published. A restricted (S-flagged) patient's address, telecom and GP
/// are never published: consumers have no role to permit them.
pub fn demographics(d: &Demographics) -> wire::Demographics {
    let redacted;
    let d = if d.restricted {
        redacted = d.redacted();
        &redacted
    } else {
        d
    };
    wire::Demographics {
        restricted: d.restricted,
        nhs_number: d
            .nhs_number
            .as_ref()
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        nhs_number_verification_status: d
            .nhs_number_verification_status
            .map(|s| s.code().to_string())
            .unwrap_or_default(),
        local_identifiers: d
            .local_numbers
            .iter()
            .map(|l| wire::LocalIdentifier {
                assigner: l.assigner.to_string(),
                value: l.value.clone(),
            })
            .collect(),
        names: d
            .names
            .iter()
            .map(|n| wire::HumanName {
                family: n.family.clone(),
                given: n.given.clone(),
                prefix: n.prefix.clone().unwrap_or_default(),
                r#use: n.r#use.clone(),
            })
            .collect(),
        birth_date: d.birth_date.to_string(),
        administrative_sex: d.administrative_sex.as_str().to_string(),
        addresses: d
            .addresses
            .iter()
            .map(|a| wire::Address {
                lines: a.lines.clone(),
                city: a.city.clone().unwrap_or_default(),
                district: a.district.clone().unwrap_or_default(),
                postal_code: a
                    .postcode
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                country: a.country.clone().unwrap_or_default(),
                r#use: a.r#use.clone(),
                period_start: a.period_start.map(|d| d.to_string()).unwrap_or_default(),
                period_end: a.period_end.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
        telecom: d
            .telecom
            .iter()
            .map(|t| wire::ContactPoint {
                system: t.system.clone(),
                value: t.value.clone(),
                r#use: t.r#use.clone().unwrap_or_default(),
            })
            .collect(),
        general_practice: d
            .general_practice
            .as_ref()
            .map(|g| g.to_string())
            .unwrap_or_default(),
    }
}

pub fn registered(tenant: &TenantId, p: &Patient, trace: &TraceContext) -> OutgoingEvent {
    let msg = wire::PatientRegistered {
        patient_id: p.id.to_string(),
        tenant: tenant.to_string(),
        version: p.version,
        demographics: Some(demographics(&p.demographics)),
        registered_at: p.created_at.to_rfc3339(),
    };
    outgoing(tenant, p, PATIENT_REGISTERED, msg.encode_to_vec(), trace)
}

pub fn updated(
    tenant: &TenantId,
    p: &Patient,
    changed: Vec<String>,
    trace: &TraceContext,
) -> OutgoingEvent {
    let msg = wire::PatientUpdated {
        patient_id: p.id.to_string(),
        tenant: tenant.to_string(),
        version: p.version,
        demographics: Some(demographics(&p.demographics)),
        changed_fields: changed,
        updated_at: p.updated_at.to_rfc3339(),
    };
    outgoing(tenant, p, PATIENT_UPDATED, msg.encode_to_vec(), trace)
}

pub fn merged(
    tenant: &TenantId,
    m: &Merge,
    survivor: &Patient,
    merged_nhs_number: Option<&str>,
    trace: &TraceContext,
) -> OutgoingEvent {
    let msg = wire::PatientMerged {
        merge_id: m.id.to_string(),
        tenant: tenant.to_string(),
        survivor_patient_id: m.survivor_id.to_string(),
        merged_patient_id: m.merged_id.to_string(),
        survivor_version: survivor.version,
        survivor_demographics: Some(demographics(&survivor.demographics)),
        moved_local_identifiers: m
            .moved_local_numbers
            .iter()
            .map(|l| wire::LocalIdentifier {
                assigner: l.assigner.to_string(),
                value: l.value.clone(),
            })
            .collect(),
        merged_nhs_number: merged_nhs_number.unwrap_or_default().to_string(),
        merged_at: m.merged_at.to_rfc3339(),
    };
    keyed(
        tenant,
        m.merged_id,
        PATIENT_MERGED,
        msg.encode_to_vec(),
        trace,
    )
}

pub fn unmerged(
    tenant: &TenantId,
    m: &Merge,
    survivor: &Patient,
    restored: &Patient,
    trace: &TraceContext,
) -> OutgoingEvent {
    let msg = wire::PatientUnmerged {
        merge_id: m.id.to_string(),
        tenant: tenant.to_string(),
        survivor_patient_id: m.survivor_id.to_string(),
        merged_patient_id: m.merged_id.to_string(),
        survivor_version: survivor.version,
        survivor_demographics: Some(demographics(&survivor.demographics)),
        restored_version: restored.version,
        restored_demographics: Some(demographics(&restored.demographics)),
        unmerged_at: m.unmerged_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
    };
    keyed(
        tenant,
        m.merged_id,
        PATIENT_UNMERGED,
        msg.encode_to_vec(),
        trace,
    )
}

fn outgoing(
    tenant: &TenantId,
    p: &Patient,
    ce_type: &str,
    payload: Vec<u8>,
    trace: &TraceContext,
) -> OutgoingEvent {
    keyed(tenant, p.id, ce_type, payload, trace)
}

fn keyed(
    tenant: &TenantId,
    key: PatientId,
    ce_type: &str,
    payload: Vec<u8>,
    trace: &TraceContext,
) -> OutgoingEvent {
    OutgoingEvent {
        topic: tenant.topic("mpi", "patient"),
        key: key.to_string(),
        ce_type: ce_type.into(),
        source: SOURCE.into(),
        subject: Some(key.to_string()),
        payload,
        trace: Some(trace.clone()),
    }
}
