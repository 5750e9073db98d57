//! What the JSON API takes, and its parsing into domain types: every invalid field named at
//! once (422 `validation`), nothing reaching a use case unparsed.
use crate::domain::{
    text, three_digits, AdmissionMethod, AdmissionPurpose, AdmissionSource, BedId,
    DischargeDestination, DischargeMethod, DomainError, IntendedManagement, NewBed, NewWard,
    WardCode, WardId,
};
use crate::store::{Admission, Destination, Discharge};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tessera_edge::problem::FieldError;
use utoipa::ToSchema;
use uuid::Uuid;

/// Collects field errors; `take` keeps the value when it parsed.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn take<T>(&mut self, r: Result<T, DomainError>) -> Option<T> {
        r.map_err(|e| match e {
            DomainError::Invalid {
                field,
                code,
                message,
            } => self.0.push(FieldError::new(field, code, message)),
        })
        .ok()
    }

    pub(super) fn add(&mut self, f: &str, code: &str, message: &str) {
        self.0.push(FieldError::new(f, code, message));
    }

    /// The value, when every field parsed.
    pub(super) fn done<T>(self, v: Option<T>) -> Result<T, Vec<FieldError>> {
        match v {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(self.0),
        }
    }
}

pub fn id(f: &'static str, s: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(s.trim()).map_err(|_| DomainError::invalid(f, "format", "an id (UUID)"))
}

/// An instant, RFC 3339 with its offset; `now` when absent.
pub fn instant(f: &'static str, s: Option<&str>) -> Result<DateTime<Utc>, DomainError> {
    match s {
        None => Ok(Utc::now()),
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                DomainError::invalid(
                    f,
                    "format",
                    "a time with its offset, RFC 3339 (2026-12-07T09:30:00+00:00)",
                )
            }),
    }
}

pub(super) fn optional<T>(
    e: &mut Errors,
    v: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, DomainError>,
) -> Option<Option<T>> {
    match v {
        None => Some(None),
        Some(s) => e.take(parse(s)).map(Some),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BedBody {
    /// The trust's code for the bed, unique on the ward (PV1-3.3).
    pub code: String,
    #[serde(default)]
    pub bay: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WardBody {
    /// The trust's code for the ward (PV1-3.1): 1–20 letters, digits, `-`, `_`.
    pub code: String,
    pub name: String,
    pub site: String,
    /// The workgroup caring for the ward's patients.
    pub team: String,
    #[serde(default)]
    pub beds: Vec<BedBody>,
}

pub fn parse_ward(b: WardBody) -> Result<NewWard, Vec<FieldError>> {
    let mut e = Errors::default();
    let code = e.take(WardCode::parse(&b.code));
    let name = e.take(text("name", &b.name, 200));
    let site = e.take(text("site", &b.site, 100));
    let team = e.take(text("team", &b.team, 100));
    if b.beds.len() > 2_000 {
        e.add("beds", "range", "at most 2,000 beds on a ward");
    }
    let beds: Vec<NewBed> = b
        .beds
        .iter()
        .filter_map(|bed| e.take(NewBed::parse(&bed.code, bed.bay.as_deref())))
        .collect();
    let ward = match (code, name, site, team) {
        (Some(code), Some(name), Some(site), Some(team)) => Some(NewWard {
            code,
            name,
            site,
            team,
            beds,
        }),
        _ => None,
    };
    e.done(ward)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionBody {
    /// The MPI's id of the patient.
    pub patient_id: String,
    /// The ward (the bed's, when a bed is given).
    #[serde(default)]
    pub ward_id: Option<String>,
    #[serde(default)]
    pub bed_id: Option<String>,
    /// Data Dictionary ADMISSION METHOD (11–13 elective, 21–28 and 2A–2D emergency, 31–32
    /// maternity, 81–83 other).
    pub admission_method: String,
    /// SOURCE OF ADMISSION.
    pub admission_source: String,
    /// INTENDED MANAGEMENT: 1 ordinary, 2 day case, ... (1).
    #[serde(default)]
    pub intended_management: Option<String>,
    /// With an RTT pathway: `treatment` (stops the clock), `diagnostic`, `pre-operative`,
    /// `procedure-not-done`.
    #[serde(default)]
    pub admission_purpose: Option<String>,
    /// The responsible consultant (their user id): the first episode's.
    pub consultant: String,
    /// Treatment function code (3 digits).
    pub treatment_function: String,
    #[serde(default)]
    pub referral_id: Option<String>,
    #[serde(default)]
    pub ppid: Option<String>,
    #[serde(default)]
    pub ppid_issuer: Option<String>,
    /// The commissioner's ODS code.
    #[serde(default)]
    pub commissioner: Option<String>,
    /// When, RFC 3339 (now): earlier for an admission recorded after downtime.
    #[serde(default)]
    pub admitted_at: Option<String>,
    /// The admitted waiting list entry this (elective) admission closes: its RTT pathway and
    /// referral are the admission's unless given, for treatment.
    #[serde(default)]
    pub waiting_list_entry_id: Option<String>,
}

pub(super) fn ppid(
    e: &mut Errors,
    id: Option<&str>,
    issuer: Option<&str>,
) -> Option<Option<(String, String)>> {
    match tessera_nhs::parse_ppid_fields(id, issuer) {
        Ok(p) => Some(p.map(|(i, o)| (i, o.as_str().to_string()))),
        Err((field, message)) => {
            e.add(field, "format", &message);
            None
        }
    }
}

pub fn parse_admission(b: AdmissionBody, by: &str) -> Result<Admission, Vec<FieldError>> {
    let mut e = Errors::default();
    let patient = tessera_patients::PatientId::parse(&b.patient_id);
    if patient.is_none() {
        e.add("patient_id", "format", "a patient id (UUID)");
    }
    let ward = optional(&mut e, b.ward_id.as_deref(), |s| {
        id("ward_id", s).map(WardId::from)
    });
    let bed = optional(&mut e, b.bed_id.as_deref(), |s| {
        id("bed_id", s).map(BedId::from)
    });
    if b.ward_id.is_none() && b.bed_id.is_none() {
        e.add("ward_id", "required", "a ward_id or a bed_id");
    }
    let method = e.take(AdmissionMethod::parse(&b.admission_method));
    let source = e.take(AdmissionSource::parse(&b.admission_source));
    let management = e.take(IntendedManagement::parse(
        b.intended_management.as_deref().unwrap_or("1"),
    ));
    let purpose = optional(
        &mut e,
        b.admission_purpose.as_deref(),
        AdmissionPurpose::parse,
    );
    let consultant = e.take(text("consultant", &b.consultant, 100));
    let tf = e.take(three_digits("treatment_function", &b.treatment_function));
    let referral = optional(&mut e, b.referral_id.as_deref(), |s| id("referral_id", s));
    let pathway = ppid(&mut e, b.ppid.as_deref(), b.ppid_issuer.as_deref());
    if matches!(pathway, Some(Some(_))) && matches!(purpose, Some(None)) {
        e.add(
            "admission_purpose",
            "required",
            "an admission on an RTT pathway says its purpose: treatment, diagnostic, pre-operative or procedure-not-done",
        );
    }
    let commissioner = optional(&mut e, b.commissioner.as_deref(), |s| {
        tessera_nhs::OdsCode::parse(s)
            .map(|o| o.as_str().to_string())
            .map_err(|err| DomainError::invalid("commissioner", "format", err.to_string()))
    });
    let at = e.take(instant("admitted_at", b.admitted_at.as_deref()));
    let entry = optional(&mut e, b.waiting_list_entry_id.as_deref(), |s| {
        id("waiting_list_entry_id", s)
    });
    let admission = (|| {
        Some(Admission {
            patient: patient?,
            ward: ward?,
            bed: bed?,
            method: method?,
            source: source?,
            management: management?,
            purpose: purpose?,
            consultant: consultant?,
            treatment_function: tf?,
            referral: referral?,
            ppid: pathway?,
            commissioner: commissioner?,
            at: at?,
            by: by.to_string(),
            key: None,
            waiting_list_entry: entry?,
            visit: None,
        })
    })();
    e.done(admission)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// The bed moved to (its ward follows), or:
    #[serde(default)]
    pub bed_id: Option<String>,
    /// a ward without a bed yet.
    #[serde(default)]
    pub ward_id: Option<String>,
    /// When, RFC 3339 (now); not before the spell's last action.
    #[serde(default)]
    pub at: Option<String>,
}

pub fn parse_transfer(b: TransferBody) -> Result<(Destination, DateTime<Utc>), Vec<FieldError>> {
    let mut e = Errors::default();
    let to = match (b.bed_id.as_deref(), b.ward_id.as_deref()) {
        (Some(bed), None) => e
            .take(id("bed_id", bed))
            .map(|u| Destination::Bed(BedId::from(u))),
        (None, Some(w)) => e
            .take(id("ward_id", w))
            .map(|u| Destination::Ward(WardId::from(u))),
        _ => {
            e.add("bed_id", "required", "a bed_id or a ward_id, not both");
            None
        }
    };
    let at = e.take(instant("at", b.at.as_deref()));
    let v = to.zip(at);
    e.done(v)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultantBody {
    /// The new responsible consultant (their user id).
    pub consultant: String,
    pub treatment_function: String,
    #[serde(default)]
    pub at: Option<String>,
}

pub fn parse_consultant(
    b: ConsultantBody,
) -> Result<(String, String, DateTime<Utc>), Vec<FieldError>> {
    let mut e = Errors::default();
    let c = e.take(text("consultant", &b.consultant, 100));
    let tf = e.take(three_digits("treatment_function", &b.treatment_function));
    let at = e.take(instant("at", b.at.as_deref()));
    let v = (|| Some((c?, tf?, at?)))();
    e.done(v)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DischargeBody {
    /// Data Dictionary DISCHARGE METHOD.
    pub discharge_method: String,
    /// DISCHARGE DESTINATION.
    pub discharge_destination: String,
    #[serde(default)]
    pub at: Option<String>,
}

pub fn parse_discharge(
    b: DischargeBody,
    clean: bool,
) -> Result<(Discharge, DateTime<Utc>), Vec<FieldError>> {
    let mut e = Errors::default();
    let method = e.take(DischargeMethod::parse(&b.discharge_method));
    let destination = e.take(DischargeDestination::parse(&b.discharge_destination));
    let at = e.take(instant("at", b.at.as_deref()));
    let v = (|| {
        Some((
            Discharge {
                method: method?,
                destination: destination?,
                clean,
            },
            at?,
        ))
    })();
    e.done(v)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Which action is cancelled — `admission` (A11), `transfer` (A12), `discharge` (A13),
    /// `consultant`, `leave-start`, `leave-end` — it must be the spell's last. Absent: the
    /// last, whichever it is.
    #[serde(default)]
    pub cancels: Option<String>,
    pub reason: String,
}

pub fn parse_cancel(b: CancelBody) -> Result<(Option<String>, String), Vec<FieldError>> {
    let mut e = Errors::default();
    let kind = match b.cancels.as_deref().map(str::trim) {
        None => Some(None),
        Some(
            k @ ("admission" | "transfer" | "discharge" | "consultant" | "leave-start"
            | "leave-end"),
        ) => Some(Some(k.to_string())),
        Some(_) => {
            e.add(
                "cancels",
                "code",
                "admission, transfer, discharge, consultant, leave-start or leave-end",
            );
            None
        }
    };
    let reason = e.take(text("reason", &b.reason, 500));
    let v = kind.zip(reason);
    e.done(v)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BedStateBody {
    /// `available`, `closed` or `cleaning`.
    pub state: String,
}
