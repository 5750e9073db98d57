//! What a change to a spell asks for, parsed: an admission, a transfer's destination, who
//! acts and when, a discharge's method and destination.
use crate::domain::{
    AdmissionMethod, AdmissionPurpose, AdmissionSource, BedId, DischargeDestination,
    DischargeMethod, IntendedManagement, WardId,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct Admission {
    pub patient: tessera_patients::PatientId,
    /// The ward: the bed's, when a bed is given.
    pub ward: Option<WardId>,
    pub bed: Option<BedId>,
    pub method: AdmissionMethod,
    pub source: AdmissionSource,
    pub management: IntendedManagement,
    pub purpose: Option<AdmissionPurpose>,
    pub consultant: String,
    pub treatment_function: String,
    pub referral: Option<Uuid>,
    /// The pathway's PPID and its issuer.
    pub ppid: Option<(String, String)>,
    pub commissioner: Option<String>,
    /// When the patient was admitted (now, if not given; earlier after downtime).
    pub at: DateTime<Utc>,
    pub by: String,
    /// The request's `Idempotency-Key`.
    pub key: Option<String>,
    /// The admitted waiting list entry this admission closes: its RTT group and referral
    /// are the admission's unless given.
    pub waiting_list_entry: Option<Uuid>,
    /// The sending PAS's visit number (PV1-19), for a feed's admission.
    pub visit: Option<String>,
}

/// Where a transfer goes: a bed, or a ward without a bed yet.
pub enum Destination {
    Bed(BedId),
    Ward(WardId),
}

pub struct Change {
    pub at: DateTime<Utc>,
    pub by: String,
}

pub struct Discharge {
    pub method: DischargeMethod,
    pub destination: DischargeDestination,
    /// Put the bed to cleaning (the trust's setting), rather than straight back to available.
    pub clean: bool,
}
