//! What the JSON API answers, as types: serialised for the response and described in the
//! OpenAPI document from the same definition, so the document cannot drift from the answer.
use crate::domain::matching::Candidate;
use crate::domain::{Demographics, Patient, PatientId, Replaced};
use crate::store::merges::Merge;
use serde::Serialize;
use utoipa::ToSchema;

/// A patient: the demographics, with the record's id, version and whether it is still
/// active (a merged-away record names its survivor in `merged_into`).
#[derive(Serialize, ToSchema)]
pub struct PatientView {
    pub id: PatientId,
    pub version: i64,
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<PatientId>,
    /// Records merged into this one, with the NHS number each carried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<Replaced>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub demographics: Demographics,
}

impl From<&Patient> for PatientView {
    fn from(p: &Patient) -> Self {
        Self {
            id: p.id,
            version: p.version,
            active: p.is_active(),
            merged_into: p.merged_into,
            replaces: p.replaces.clone(),
            created_at: p.created_at.to_rfc3339(),
            updated_at: p.updated_at.to_rfc3339(),
            demographics: p.demographics.clone(),
        }
    }
}

/// A scored, explained candidate for a match.
#[derive(Serialize, ToSchema)]
pub struct CandidateView {
    pub patient_id: PatientId,
    /// Match weight in bits.
    pub score: f64,
    /// `match`, `possible` or `no_match`.
    pub decision: &'static str,
    /// FHIR match-grade: certain, probable, possible.
    pub grade: &'static str,
    /// Each field's comparison level and its weight.
    pub explanation: serde_json::Value,
}

impl From<&Candidate> for CandidateView {
    fn from(c: &Candidate) -> Self {
        Self {
            patient_id: c.patient.id,
            score: c.score,
            decision: c.decision,
            grade: c.grade,
            explanation: serde_json::to_value(&c.explanation).unwrap_or_default(),
        }
    }
}

/// A registration's answer: the patient, and records that may be the same person.
#[derive(Serialize, ToSchema)]
pub struct Registered {
    #[serde(flatten)]
    pub patient: PatientView,
    pub possible_duplicates: Vec<CandidateView>,
}

/// A read. For a merged-away id, the survivor, naming the id asked for and its record.
#[derive(Serialize, ToSchema)]
pub struct ReadAnswer {
    #[serde(flatten)]
    pub patient: PatientView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_id: Option<PatientId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_record: Option<PatientView>,
}

#[derive(Serialize, ToSchema)]
pub struct PatientPage {
    pub count: usize,
    pub patients: Vec<PatientView>,
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub patient_id: PatientId,
    pub versions: Vec<crate::store::HistoryEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct MatchCandidate {
    #[serde(flatten)]
    pub candidate: CandidateView,
    pub patient: PatientView,
}

#[derive(Serialize, ToSchema)]
pub struct Candidates {
    pub count: usize,
    pub candidates: Vec<MatchCandidate>,
}

#[derive(Serialize, ToSchema)]
pub struct Merged {
    pub merge: Merge,
    pub survivor: PatientView,
}

#[derive(Serialize, ToSchema)]
pub struct Unmerged {
    pub merge: Merge,
    pub survivor: PatientView,
    pub restored: PatientView,
}

#[derive(Serialize, ToSchema)]
pub struct Merges {
    pub count: usize,
    pub merges: Vec<Merge>,
}

#[derive(Serialize, ToSchema)]
pub struct Reviews {
    pub count: usize,
    pub reviews: Vec<crate::store::reviews::Review>,
}

#[derive(Serialize, ToSchema)]
pub struct Decided {
    pub review: crate::store::reviews::Review,
    pub merge: Option<Merge>,
}
