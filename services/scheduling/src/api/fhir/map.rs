//! Clinics, slots and appointments as FHIR R4 UK Core `Schedule`, `Slot` and `Appointment`,
//! and an `Appointment` as a booking or a status change. Codes and extensions:
//! docs/services/scheduling.md.
use super::super::bodies::BookingBody;
use crate::domain::{Attendance, CancelledBy};
use crate::store::{Appointment, Clinic, Slot};
use serde_json::{json, Value};
use tessera_edge::problem::FieldError;
use tessera_fhir::refs::{identifier, referenced_id};

pub const SCHEDULE_PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Schedule";
pub const SLOT_PROFILE: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Slot";
pub const APPOINTMENT_PROFILE: &str =
    "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Appointment";
const CLINIC_SYSTEM: &str = "https://tessera.nhs.uk/Id/clinic-code";
const SERVICE_SYSTEM: &str = "https://tessera.nhs.uk/CodeSystem/clinic-service";
const TF_SYSTEM: &str = "https://tessera.nhs.uk/CodeSystem/treatment-function";
const TEAM_SYSTEM: &str = "https://tessera.nhs.uk/Id/team";
const USER_SYSTEM: &str = "https://tessera.nhs.uk/Id/user";
const SITE_SYSTEM: &str = "https://tessera.nhs.uk/Id/site";
const ATTENDANCE_EXT: &str =
    "https://tessera.nhs.uk/StructureDefinition/attended-or-did-not-attend";
const ATTENDANCE_SYSTEM: &str = "https://tessera.nhs.uk/CodeSystem/attended-or-did-not-attend";
const PATHWAY_EXT: &str = "https://tessera.nhs.uk/StructureDefinition/rtt-pathway";
const CANCEL_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason";

fn pruned(mut v: Value) -> Value {
    tessera_fhir::prune(&mut v);
    v
}

fn coding(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

/// A clinic as the `Schedule` its slots belong to.
pub fn schedule(c: &Clinic) -> Value {
    let mut actor = vec![json!({
        "identifier": identifier(SITE_SYSTEM, &c.site),
        "display": match &c.room { Some(r) => format!("{}, {r}", c.site), None => c.site.clone() },
    })];
    if let Some(t) = &c.team {
        actor.push(json!({ "identifier": identifier(TEAM_SYSTEM, t) }));
    }
    if let Some(u) = &c.clinician {
        actor.push(json!({ "identifier": identifier(USER_SYSTEM, u) }));
    }
    pruned(json!({
        "resourceType": "Schedule",
        "id": c.id.to_string(),
        "meta": { "profile": [SCHEDULE_PROFILE] },
        "identifier": [identifier(CLINIC_SYSTEM, &c.code)],
        "active": true,
        "serviceType": c.services.iter().map(|s| coding(SERVICE_SYSTEM, s)).collect::<Vec<_>>(),
        "specialty": [coding(TF_SYSTEM, &c.treatment_function)],
        "actor": actor,
        "comment": c.name,
    }))
}

/// A slot: `free`, `busy` (every place booked or held) or `busy-unavailable`.
pub fn slot(s: &Slot) -> Value {
    json!({
        "resourceType": "Slot",
        "id": s.id.to_string(),
        "meta": { "profile": [SLOT_PROFILE] },
        "schedule": { "reference": format!("Schedule/{}", s.clinic_id) },
        "serviceType": [coding(SERVICE_SYSTEM, &s.slot_type)],
        "status": s.status,
        "start": s.start,
        "end": s.end,
        "overbooked": s.booked > s.capacity,
        "comment": format!("{} of {} places free", s.free, s.capacity),
    })
}

/// The service's appointment status as FHIR's (the attendance code says which non-arrival).
fn status(a: &Appointment) -> &'static str {
    match a.status.as_str() {
        "booked" => "booked",
        "cancelled" => "cancelled",
        "attended" => "fulfilled",
        _ => "noshow",
    }
}

pub fn appointment(a: &Appointment) -> Value {
    let mut ext = vec![json!({ "url": ATTENDANCE_EXT,
        "valueCoding": { "system": ATTENDANCE_SYSTEM, "code": a.attendance_code.to_string() } })];
    if let (Some(ppid), Some(issuer)) = (&a.ppid, &a.ppid_issuer) {
        ext.push(json!({ "url": PATHWAY_EXT, "valueIdentifier": {
            "system": format!("https://tessera.nhs.uk/Id/ppid/{issuer}"), "value": ppid } }));
    }
    let mut v = json!({
        "resourceType": "Appointment",
        "id": a.id.to_string(),
        "meta": tessera_fhir::version::meta(a.version, a.updated_at, Some(APPOINTMENT_PROFILE)),
        "extension": ext,
        "status": status(a),
        "start": a.start,
        "end": a.end,
        "slot": [{ "reference": format!("Slot/{}", a.slot_id) }],
        "participant": [
            { "actor": { "reference": format!("Patient/{}", a.patient_id) }, "required": "required", "status": "accepted" },
            { "actor": { "reference": format!("Schedule/{}", a.clinic_id), "type": "Schedule" }, "status": "accepted" },
        ],
    });
    if let Some(r) = a.referral_id {
        v["basedOn"] = json!([{ "reference": format!("ServiceRequest/{r}") }]);
    }
    if a.status == "cancelled" {
        let code = if a.attendance_code == 2 {
            "pat"
        } else {
            "prov"
        };
        v["cancelationReason"] = json!({ "coding": [{ "system": CANCEL_SYSTEM, "code": code }],
            "text": a.cancel_reason });
    }
    pruned(v)
}

fn field(f: &str, code: &str, message: &str) -> FieldError {
    FieldError::new(f, code, message)
}

/// The id in the first reference of `list` to a `kind` (`Slot/…`, `Patient/…`).
fn first_ref(v: &Value, list: &str, path: &[&str], kind: &str) -> Option<String> {
    v[list].as_array()?.iter().find_map(|item| {
        let r = path.iter().fold(item, |x, p| &x[*p]);
        r.as_str()
            .and_then(|s| referenced_id(kind, s))
            .map(str::to_string)
    })
}

/// A booking from an `Appointment` (status `booked`): its `slot`, the `Patient` among its
/// participants, and optionally the `ServiceRequest` it is `basedOn`.
pub fn booking(v: &Value) -> Result<BookingBody, Vec<FieldError>> {
    let mut errors = Vec::new();
    if v["resourceType"] != "Appointment" {
        errors.push(field("resourceType", "value", "must be Appointment"));
    }
    if !matches!(v["status"].as_str(), Some("booked")) {
        errors.push(field("status", "value", "a new appointment is booked"));
    }
    let slot = first_ref(v, "slot", &["reference"], "Slot");
    if slot.is_none() {
        errors.push(field(
            "slot",
            "required",
            "the Slot to book: [{\"reference\": \"Slot/<id>\"}]",
        ));
    }
    let patient = first_ref(v, "participant", &["actor", "reference"], "Patient");
    if patient.is_none() {
        errors.push(field(
            "participant",
            "required",
            "a participant whose actor is Patient/<id>",
        ));
    }
    let referral = first_ref(v, "basedOn", &["reference"], "ServiceRequest");
    match (slot, patient) {
        (Some(slot_id), Some(patient_id)) if errors.is_empty() => Ok(BookingBody {
            slot_id,
            patient_id,
            referral_id: referral,
            pathway_id: None,
            hold_id: None,
            overbook: false,
            ppid: None,
            ppid_issuer: None,
            communicated: None,
        }),
        _ => Err(errors),
    }
}

/// What a FHIR update of an appointment may ask: cancel it, or record its outcome.
#[derive(Debug, PartialEq)]
pub enum Change {
    Cancel(CancelledBy, String),
    Outcome(Attendance),
}

/// The change an `Appointment` sent with `PUT` asks: `cancelled` (with `cancelationReason`
/// `pat` or `prov`), `fulfilled` (attended) or `noshow` (did not attend). `Ok(None)`: some
/// other status, which no update may set.
pub fn change(v: &Value) -> Result<Option<Change>, Vec<FieldError>> {
    match v["status"].as_str().unwrap_or_default() {
        "cancelled" => {
            let reason = &v["cancelationReason"];
            let by = match reason["coding"][0]["code"].as_str() {
                Some("pat") => CancelledBy::Patient,
                Some("prov") => CancelledBy::Provider,
                _ => {
                    return Err(vec![field(
                        "cancelationReason",
                        "required",
                        "who cancelled: coding pat (the patient) or prov (the provider)",
                    )])
                }
            };
            let text = reason["text"].as_str().unwrap_or_default().trim();
            let text = if text.is_empty() { "cancelled" } else { text };
            Ok(Some(Change::Cancel(by, text.chars().take(500).collect())))
        }
        "fulfilled" => Ok(Some(Change::Outcome(Attendance::Attended))),
        "noshow" => Ok(Some(Change::Outcome(Attendance::DidNotAttend))),
        _ => Ok(None),
    }
}

/// FHIRPath of a JSON API field, for `OperationOutcome.issue.expression`.
pub fn fhir_path(f: &str) -> String {
    match f {
        "slot_id" => "Appointment.slot".into(),
        "patient_id" => "Appointment.participant".into(),
        "referral_id" => "Appointment.basedOn".into(),
        other => format!("Appointment.{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appointment_books_its_slot_for_its_patient_and_updates_only_change_status() {
        let v = json!({ "resourceType": "Appointment", "status": "booked",
            "slot": [{ "reference": "Slot/s1" }],
            "participant": [{ "actor": { "reference": "Schedule/c" } }, { "actor": { "reference": "Patient/p1" } }],
            "basedOn": [{ "reference": "ServiceRequest/r1" }] });
        let b = booking(&v).unwrap();
        assert_eq!((b.slot_id.as_str(), b.patient_id.as_str()), ("s1", "p1"));
        assert_eq!(b.referral_id.as_deref(), Some("r1"));
        let Err(errs) = booking(&json!({ "resourceType": "Appointment", "status": "proposed" }))
        else {
            panic!("a proposed appointment with no slot or patient is not a booking")
        };
        assert_eq!(errs.len(), 3);

        let cancel = json!({ "status": "cancelled", "cancelationReason": { "coding": [{ "code": "pat" }], "text": "moving away" } });
        assert_eq!(
            change(&cancel).unwrap(),
            Some(Change::Cancel(CancelledBy::Patient, "moving away".into()))
        );
        assert_eq!(
            change(&json!({ "status": "noshow" })).unwrap(),
            Some(Change::Outcome(Attendance::DidNotAttend))
        );
        assert_eq!(change(&json!({ "status": "arrived" })).unwrap(), None);
        assert!(
            change(&json!({ "status": "cancelled" })).is_err(),
            "who cancelled is required"
        );
    }
}
