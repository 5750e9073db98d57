//! What the JSON API takes, and its parsing into domain types: every invalid field named at
//! once (422 `validation`), nothing reaching a use case unparsed.
use crate::domain::{
    Attendance, CancelledBy, ClinicCode, DomainError, HoldId, NewClinic, NewTemplate, Pattern,
    SlotId, SlotType,
};
use crate::store::NewBooking;
use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use tessera_edge::problem::FieldError;
use utoipa::ToSchema;
use uuid::Uuid;

fn field(e: DomainError) -> FieldError {
    match e {
        DomainError::Invalid {
            field,
            code,
            message,
        } => FieldError::new(field, code, message),
    }
}

/// Collects field errors; `take` keeps the value when it parsed.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn take<T>(&mut self, r: Result<T, DomainError>) -> Option<T> {
        r.map_err(|e| self.0.push(field(e))).ok()
    }

    fn add(&mut self, f: &str, code: &str, message: &str) {
        self.0.push(FieldError::new(f, code, message));
    }
}

fn text(f: &'static str, s: &str, max: usize) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        Err(DomainError::invalid(
            f,
            "length",
            format!("1 to {max} characters"),
        ))
    } else {
        Ok(s.to_string())
    }
}

pub fn date(f: &'static str, s: &str) -> Result<NaiveDate, DomainError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| DomainError::invalid(f, "date", "a date, YYYY-MM-DD"))
}

fn time(f: &'static str, s: &str) -> Result<NaiveTime, DomainError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| DomainError::invalid(f, "time", "a local time, HH:MM"))
}

pub fn id(f: &'static str, s: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(s.trim()).map_err(|_| DomainError::invalid(f, "format", "an id (UUID)"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicBody {
    /// The trust's code for the clinic: 1–20 letters, digits, `-`, `_`.
    pub code: String,
    pub name: String,
    /// Main specialty code (3 digits).
    pub specialty: String,
    /// Treatment function code (3 digits).
    pub treatment_function: String,
    pub site: String,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub clinician: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// Services offered: `new`, `follow-up`, `urgent`, `two-week-wait`.
    pub services: Vec<String>,
    #[serde(default)]
    pub ers_bookable: bool,
}

pub fn parse_clinic(b: ClinicBody) -> Result<NewClinic, Vec<FieldError>> {
    let mut e = Errors::default();
    let code = e.take(ClinicCode::parse(&b.code));
    let name = e.take(text("name", &b.name, 200));
    let specialty = e.take(crate::domain::three_digits("specialty", &b.specialty));
    let tf = e.take(crate::domain::three_digits(
        "treatment_function",
        &b.treatment_function,
    ));
    let site = e.take(text("site", &b.site, 100));
    let optional = |e: &mut Errors, f: &'static str, v: &Option<String>| {
        v.as_deref().and_then(|s| e.take(text(f, s, 100)))
    };
    let room = optional(&mut e, "room", &b.room);
    let clinician = optional(&mut e, "clinician", &b.clinician);
    let team = optional(&mut e, "team", &b.team);
    let mut services = Vec::new();
    for s in &b.services {
        match SlotType::parse(s) {
            Some(t) if !services.contains(&t) => services.push(t),
            Some(_) => {}
            None => e.add(
                "services",
                "code",
                "new, follow-up, urgent or two-week-wait",
            ),
        }
    }
    if services.is_empty() && b.services.is_empty() {
        e.add("services", "required", "at least one service");
    }
    match (code, name, specialty, tf, site) {
        (Some(code), Some(name), Some(specialty), Some(treatment_function), Some(site))
            if e.0.is_empty() =>
        {
            Ok(NewClinic {
                code,
                name,
                specialty,
                treatment_function,
                site,
                room,
                clinician,
                team,
                services,
                ers_bookable: b.ers_bookable,
            })
        }
        _ => Err(e.0),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// `{"every": "week", "weekday": "tue"}`, `{"every": "fortnight", "weekday": "tue",
    /// "first": "2026-01-06"}` or `{"every": "month", "weekday": "wed", "nth": 2}`.
    pub pattern: Pattern,
    /// Local time of day, `HH:MM` (Europe/London).
    pub starts: String,
    pub ends: String,
    pub slot_minutes: u16,
    #[serde(default = "one")]
    pub capacity: u16,
    #[serde(default)]
    pub overbook: u16,
    /// `new`, `follow-up`, `urgent`, `two-week-wait`.
    pub slot_type: String,
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: Option<String>,
}

fn one() -> u16 {
    1
}

pub fn parse_template(b: TemplateBody) -> Result<NewTemplate, Vec<FieldError>> {
    let mut e = Errors::default();
    let starts = e.take(time("starts", &b.starts));
    let ends = e.take(time("ends", &b.ends));
    let slot_type = SlotType::parse(&b.slot_type);
    if slot_type.is_none() {
        e.add(
            "slot_type",
            "code",
            "new, follow-up, urgent or two-week-wait",
        );
    }
    let valid_from = e.take(date("valid_from", &b.valid_from));
    let valid_to = match b.valid_to.as_deref() {
        Some(s) => e.take(date("valid_to", s)).map(Some),
        None => Some(None),
    };
    let (Some(starts), Some(ends), Some(slot_type), Some(valid_from), Some(valid_to)) =
        (starts, ends, slot_type, valid_from, valid_to)
    else {
        return Err(e.0);
    };
    let t = NewTemplate {
        pattern: b.pattern,
        starts,
        ends,
        slot_minutes: b.slot_minutes,
        capacity: b.capacity,
        overbook: b.overbook,
        slot_type,
        valid_from,
        valid_to,
    };
    e.take(t.validate());
    if e.0.is_empty() {
        Ok(t)
    } else {
        Err(e.0)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// First date to generate (default today).
    #[serde(default)]
    pub from: Option<String>,
    /// How many weeks ahead (1 to `booking.max_horizon_weeks`, 52).
    pub weeks: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingBody {
    pub slot_id: String,
    /// The MPI's id of the patient.
    pub patient_id: String,
    #[serde(default)]
    pub referral_id: Option<String>,
    #[serde(default)]
    pub pathway_id: Option<String>,
    /// The hold taken during the booking conversation: its place becomes the booking's.
    #[serde(default)]
    pub hold_id: Option<String>,
    /// Staff booking beyond capacity, within the slot's overbooking allowance.
    #[serde(default)]
    pub overbook: bool,
    /// The RTT pathway it serves: its PPID and issuer, as the referral shows them.
    #[serde(default)]
    pub ppid: Option<String>,
    #[serde(default)]
    pub ppid_issuer: Option<String>,
    /// Clearly communicated to the patient (default true): a DNA of an appointment that was
    /// not cannot nullify a clock.
    #[serde(default)]
    pub communicated: Option<bool>,
}

/// A PPID (up to 20 letters and digits) and its issuer (an ODS code), both or neither.
fn ppid(
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

pub fn parse_booking(b: BookingBody, by: &str) -> Result<NewBooking, Vec<FieldError>> {
    let mut e = Errors::default();
    let slot = e.take(id("slot_id", &b.slot_id)).map(SlotId::from);
    let patient = tessera_patients::PatientId::parse(&b.patient_id);
    if patient.is_none() {
        e.add("patient_id", "format", "a patient id (UUID)");
    }
    let mut opt = |f: &'static str, v: &Option<String>| match v.as_deref() {
        Some(s) => e.take(id(f, s)).map(Some),
        None => Some(None),
    };
    let referral = opt("referral_id", &b.referral_id);
    let pathway = opt("pathway_id", &b.pathway_id);
    let hold = opt("hold_id", &b.hold_id);
    let ppid = ppid(&mut e, b.ppid.as_deref(), b.ppid_issuer.as_deref());
    match (slot, patient, referral, pathway, hold, ppid) {
        (Some(slot), Some(patient), Some(referral), Some(pathway), Some(hold), Some(ppid))
            if e.0.is_empty() =>
        {
            Ok(NewBooking {
                key: None,
                slot,
                patient,
                referral,
                pathway,
                ppid,
                communicated: b.communicated.unwrap_or(true),
                hold: hold.map(HoldId::from),
                overbook: b.overbook,
                by: by.to_string(),
            })
        }
        _ => Err(e.0),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// `patient` (attendance code 2) or `provider` (4).
    pub by: CancelledBy,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    /// The new slot: booked first, then the old appointment cancelled, in one transaction.
    pub slot_id: String,
    /// Who asked for the change: the old appointment is cancelled as theirs.
    pub by: CancelledBy,
    #[serde(default)]
    pub hold_id: Option<String>,
    #[serde(default)]
    pub overbook: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    /// `attended` (5), `late-seen` (6), `late-not-seen` (7), `did-not-attend` (3).
    pub outcome: Attendance,
    /// The RTT status the clinician recorded (docs/contracts/clock-events.md): `20`
    /// continuing (the default), `30` treated, `31`/`32` active monitoring, `34` not to treat
    /// or discharged, `35` declined, `36` died, `11`/`12` a new clock, `21` transferred,
    /// `90`–`92`/`98` not RTT.
    #[serde(default)]
    pub rtt_status: Option<String>,
    /// With `did-not-attend`: discharged under the trust's DNA policy.
    #[serde(default)]
    pub discharged: bool,
}

/// The RTT statuses an outcome may carry (33 is not one: a DNA is sent as the attendance).
const RTT_STATUSES: &[&str] = &[
    "20", "30", "31", "32", "34", "35", "36", "11", "12", "21", "90", "91", "92", "98",
];

pub fn parse_outcome(
    b: OutcomeBody,
) -> Result<(Attendance, crate::store::events::Rtt), Vec<FieldError>> {
    let mut e = Errors::default();
    let status = b.rtt_status.unwrap_or_default().trim().to_string();
    if !status.is_empty() && !RTT_STATUSES.contains(&status.as_str()) {
        e.add(
            "rtt_status",
            "code",
            &format!("one of {}", RTT_STATUSES.join(", ")),
        );
    }
    if b.discharged && b.outcome != Attendance::DidNotAttend {
        e.add(
            "discharged",
            "outcome",
            "a discharge under the DNA policy goes with did-not-attend",
        );
    }
    if e.0.is_empty() {
        Ok((
            b.outcome,
            crate::store::events::Rtt {
                status,
                discharged: b.discharged,
            },
        ))
    } else {
        Err(e.0)
    }
}
