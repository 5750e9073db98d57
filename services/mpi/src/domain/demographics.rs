use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use tessera_nhs::{AdministrativeSex, NhsNumber, OdsCode, Postcode, VerificationStatus};
use uuid::Uuid;

/// A patient's id within a tenant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct PatientId(Uuid);

impl PatientId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }
    pub fn parse(s: &str) -> Option<Self> {
        Uuid::parse_str(s).ok().map(Self)
    }
    pub fn uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for PatientId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatientId({})", self.0)
    }
}

/// A hospital number assigned by one trust.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LocalNumber {
    pub assigner: OdsCode,
    pub value: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HumanName {
    pub family: String,
    pub given: Vec<String>,
    pub prefix: Option<String>,
    /// FHIR name use: official, usual, nickname, maiden, old.
    pub r#use: String,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub postcode: Option<Postcode>,
    pub country: Option<String>,
    /// FHIR address use: home, temp, old, billing, work.
    pub r#use: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactPoint {
    /// phone, email, sms, other
    pub system: String,
    pub value: String,
    /// home, work, mobile, temp
    pub r#use: Option<String>,
}

/// Everything the MPI knows about who a patient is. Patient data: `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Demographics {
    pub nhs_number: Option<NhsNumber>,
    pub nhs_number_verification_status: Option<VerificationStatus>,
    pub local_numbers: Vec<LocalNumber>,
    /// At least one; the first `official` (or the first) is the one shown.
    pub names: Vec<HumanName>,
    pub birth_date: NaiveDate,
    pub administrative_sex: AdministrativeSex,
    /// Current and past addresses, with their periods.
    pub addresses: Vec<Address>,
    pub telecom: Vec<ContactPoint>,
    /// Registered GP practice (ODS code).
    pub general_practice: Option<OdsCode>,
    /// The PDS sensitive (S) flag: address, telecom and GP are withheld from anyone whose
    /// role lacks the permitting activity, and from events.
    #[serde(default)]
    pub restricted: bool,
}

impl fmt::Debug for Demographics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Demographics(***)")
    }
}

impl Demographics {
    /// The name used for search: the first official name, else the first.
    pub fn primary_name(&self) -> Option<&HumanName> {
        self.names
            .iter()
            .find(|n| n.r#use == "official")
            .or_else(|| self.names.first())
    }

    /// What someone not permitted to see a restricted patient's location may see: without
    /// address, telecom and registered GP (as PDS does for S-flagged patients).
    pub fn redacted(&self) -> Self {
        Self {
            addresses: Vec::new(),
            telecom: Vec::new(),
            general_practice: None,
            ..self.clone()
        }
    }

    /// The current home address: home use, no end date.
    pub fn current_address(&self) -> Option<&Address> {
        self.addresses
            .iter()
            .find(|a| a.period_end.is_none() && a.r#use == "home")
            .or_else(|| self.addresses.iter().find(|a| a.period_end.is_none()))
    }

    /// Top-level fields that differ, for `PatientUpdated.changed_fields`.
    pub fn changed_fields(&self, other: &Self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |name: &str, same: bool| {
            if !same {
                out.push(name.to_string());
            }
        };
        cmp("nhs_number", self.nhs_number == other.nhs_number);
        cmp(
            "nhs_number_verification_status",
            self.nhs_number_verification_status == other.nhs_number_verification_status,
        );
        cmp("local_numbers", self.local_numbers == other.local_numbers);
        cmp("names", self.names == other.names);
        cmp("birth_date", self.birth_date == other.birth_date);
        cmp(
            "administrative_sex",
            self.administrative_sex == other.administrative_sex,
        );
        cmp("addresses", self.addresses == other.addresses);
        cmp("telecom", self.telecom == other.telecom);
        cmp(
            "general_practice",
            self.general_practice == other.general_practice,
        );
        cmp("restricted", self.restricted == other.restricted);
        out
    }
}

/// A patient as stored: the current demographics and their version.
#[derive(Clone, Serialize)]
pub struct Patient {
    pub id: PatientId,
    pub version: i64,
    pub demographics: Demographics,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once this record was merged into another: the survivor. Its demographics are then
    /// frozen as they were at the merge, so an unmerge restores them exactly.
    pub merged_into: Option<PatientId>,
    /// Records merged into this one, with the NHS number each carried: identifiers are never
    /// lost, and a merged-away NHS number still finds this patient.
    pub replaces: Vec<Replaced>,
}

/// A record merged into another.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Replaced {
    pub id: PatientId,
    pub nhs_number: Option<NhsNumber>,
}

impl Patient {
    pub fn is_active(&self) -> bool {
        self.merged_into.is_none()
    }
}

impl fmt::Debug for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Patient({}, v{})", self.id, self.version)
    }
}
