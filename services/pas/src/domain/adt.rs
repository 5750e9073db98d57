//! An HL7 v2 ADT encounter message (its MSH, EVN, PV1 and PV2, as the MPI forwards them:
//! ADR 33) read into what it asks of PAS. The fields, as NHS PAS feeds fill them:
//!
//! | field | meaning here |
//! |---|---|
//! | PV1-3 | location: ward (component 1), bed (component 3) |
//! | PV1-4 | ADMISSION METHOD (the Data Dictionary's code) |
//! | PV1-7 | the responsible consultant (component 1: their code) |
//! | PV1-10 | treatment function (3 digits) |
//! | PV1-14 | SOURCE OF ADMISSION |
//! | PV1-19 | the sending PAS's visit number: names the spell in later messages |
//! | PV1-36, PV1-37 | DISCHARGE METHOD, DISCHARGE DESTINATION (component 1) |
//! | PV1-44, PV1-45 | admitted at, discharged at |
//! | EVN-6, EVN-2 | when the event happened, when it was recorded |
//!
//! Times are HL7 TS (`YYYYMMDDHHMM[SS][±ZZZZ]`); without an offset they are the trust's local
//! time, resolved to an instant by the database (which knows Europe/London's rules).
use super::{
    text, three_digits, AdmissionMethod, AdmissionSource, BedCode, DischargeDestination,
    DischargeMethod, DomainError, IntendedManagement, WardCode,
};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use tessera_hl7::Message;

/// When something happened, as the message says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// With an offset: an instant.
    Instant(DateTime<FixedOffset>),
    /// Without: the trust's local time.
    Local(NaiveDateTime),
    /// Not said: when it arrives.
    Now,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub ward: WardCode,
    pub bed: Option<BedCode>,
}

#[derive(Debug, Clone)]
pub struct AdtAdmit {
    pub location: Location,
    pub method: AdmissionMethod,
    pub source: AdmissionSource,
    pub management: IntendedManagement,
    pub consultant: String,
    pub treatment_function: String,
}

/// What one message asks.
#[derive(Debug, Clone)]
pub enum AdtAction {
    Admit(Box<AdtAdmit>),
    Transfer(Location),
    Discharge(DischargeMethod, DischargeDestination),
    /// A11, A12, A13: cancel the spell's last admission, transfer or discharge.
    Cancel(&'static str),
    /// A21 (`true`: the patient goes on leave), A22 (back).
    Leave(bool),
    /// A05, A38: pre-admissions are recorded as received and change no spell.
    Noted,
}

#[derive(Debug, Clone)]
pub struct AdtMessage {
    pub trigger: String,
    pub control_id: String,
    /// PV1-19.
    pub visit: Option<String>,
    pub when: When,
    pub action: AdtAction,
}

fn ts(s: &str) -> Option<When> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (digits, offset) = match s.find(['+', '-']) {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let digits = digits.split('.').next().unwrap_or_default();
    let padded = match digits.len() {
        8 => format!("{digits}000000"),
        12 => format!("{digits}00"),
        14 => digits.to_string(),
        _ => return None,
    };
    let local = NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S").ok()?;
    match offset {
        None => Some(When::Local(local)),
        Some(o) => {
            let o = FixedOffset::east_opt(
                o[1..]
                    .parse::<i32>()
                    .ok()
                    .map(|hhmm| hhmm / 100 * 3600 + hhmm % 100 * 60)?
                    * if o.starts_with('-') { -1 } else { 1 },
            )?;
            local.and_local_timezone(o).single().map(When::Instant)
        }
    }
}

fn when(m: &Message, first: (&str, usize)) -> Result<When, DomainError> {
    for (seg, field) in [first, ("EVN", 6), ("EVN", 2)] {
        let raw = m.value(seg, field, 0, 1);
        if raw.trim().is_empty() {
            continue;
        }
        return ts(&raw).ok_or_else(|| {
            DomainError::invalid(
                "when",
                "format",
                format!("{seg}-{field} is not an HL7 time: {raw:?}"),
            )
        });
    }
    Ok(When::Now)
}

fn location(m: &Message) -> Result<Location, DomainError> {
    let ward = m.value("PV1", 3, 0, 1);
    if ward.trim().is_empty() {
        return Err(DomainError::invalid(
            "ward",
            "required",
            "PV1-3.1 (the ward) is empty",
        ));
    }
    let bed = m.value("PV1", 3, 0, 3);
    Ok(Location {
        ward: WardCode::parse(&ward)?,
        bed: (!bed.trim().is_empty())
            .then(|| BedCode::parse(&bed))
            .transpose()?,
    })
}

impl AdtMessage {
    /// Reads a forwarded message; a field that cannot be read is the message's fault (it
    /// goes on the ADT exception list, with the field named).
    pub fn read(er7: &str) -> Result<Self, DomainError> {
        let m = Message::parse(er7)
            .map_err(|e| DomainError::invalid("message", "hl7", e.to_string()))?;
        let trigger = m.message_type().1;
        let visit = Some(m.value("PV1", 19, 0, 1)).filter(|v| !v.trim().is_empty());
        let (action, when) = match trigger.as_str() {
            "A01" => {
                let management = if m.value("PV1", 2, 0, 1) == "D" {
                    "2"
                } else {
                    "1"
                };
                let admit = AdtAdmit {
                    location: location(&m)?,
                    method: AdmissionMethod::parse(&m.value("PV1", 4, 0, 1))?,
                    source: AdmissionSource::parse(&m.value("PV1", 14, 0, 1))?,
                    management: IntendedManagement::parse(management)?,
                    consultant: text("consultant", &m.value("PV1", 7, 0, 1), 100)?,
                    treatment_function: three_digits(
                        "treatment_function",
                        &m.value("PV1", 10, 0, 1),
                    )?,
                };
                (AdtAction::Admit(Box::new(admit)), when(&m, ("PV1", 44))?)
            }
            "A02" => (AdtAction::Transfer(location(&m)?), when(&m, ("EVN", 6))?),
            "A03" => (
                AdtAction::Discharge(
                    DischargeMethod::parse(&m.value("PV1", 36, 0, 1))?,
                    DischargeDestination::parse(&m.value("PV1", 37, 0, 1))?,
                ),
                when(&m, ("PV1", 45))?,
            ),
            "A11" => (AdtAction::Cancel("admission"), When::Now),
            "A12" => (AdtAction::Cancel("transfer"), When::Now),
            "A13" => (AdtAction::Cancel("discharge"), When::Now),
            "A21" => (AdtAction::Leave(true), when(&m, ("EVN", 6))?),
            "A22" => (AdtAction::Leave(false), when(&m, ("EVN", 6))?),
            "A05" | "A38" => (AdtAction::Noted, When::Now),
            other => {
                return Err(DomainError::invalid(
                    "trigger",
                    "unsupported",
                    format!("{other} is not an encounter event PAS applies"),
                ))
            }
        };
        Ok(Self {
            trigger,
            control_id: m.control_id(),
            visit,
            when,
            action,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSH: &str = "MSH|^~\\&|PAS|RXR01|ROUTE|RXR01|20250314093012||ADT^";

    fn msg(trigger: &str, pv1: &str) -> String {
        format!("{MSH}{trigger}|M1|P|2.4\rEVN|{trigger}|20250314093012||||20250314090000\r{pv1}\r")
    }

    /// A PV1 with these fields set (by their HL7 number).
    fn pv1(fields: &[(usize, &str)]) -> String {
        let mut f = vec![""; 46];
        f[0] = "PV1";
        for (n, v) in fields {
            f[*n] = v;
        }
        f.join("|")
    }

    #[test]
    fn an_admission_reads_its_location_codes_consultant_and_time() {
        let a = AdtMessage::read(&msg(
            "A01",
            &pv1(&[
                (2, "I"),
                (3, "WARD7^^BED12"),
                (4, "21"),
                (7, "C1234567^CONSULTANT^ALAN"),
                (10, "300"),
                (14, "19"),
                (19, "V000456789^^^RXR^VN"),
                (44, "20250314090500"),
            ]),
        ))
        .unwrap();
        assert_eq!(a.visit.as_deref(), Some("V000456789"));
        assert_eq!(
            a.when,
            When::Local(NaiveDateTime::parse_from_str("20250314090500", "%Y%m%d%H%M%S").unwrap())
        );
        let AdtAction::Admit(adm) = a.action else {
            panic!("not an admission")
        };
        assert_eq!(adm.location.ward.as_str(), "WARD7");
        assert_eq!(
            adm.location.bed.as_ref().map(BedCode::as_str),
            Some("BED12")
        );
        assert_eq!((adm.method.as_str(), adm.source.as_str()), ("21", "19"));
        assert_eq!(
            (adm.consultant.as_str(), adm.treatment_function.as_str()),
            ("C1234567", "300")
        );
    }

    #[test]
    fn times_take_their_offset_fall_back_to_evn_and_refuse_nonsense() {
        assert!(
            matches!(ts("202503140900+0100"), Some(When::Instant(t)) if t.offset().local_minus_utc() == 3600)
        );
        assert!(matches!(ts("20250314"), Some(When::Local(_))));
        assert_eq!(ts("2025031"), None);
        let t = AdtMessage::read(&msg("A02", &pv1(&[(3, "WARD8^^B2")]))).unwrap();
        assert!(
            matches!(t.when, When::Local(l) if l.format("%H%M").to_string() == "0900"),
            "EVN-6"
        );
        // A02's time is EVN-6: a bad PV1-44 does not matter to it; a bad time that is read does.
        assert!(AdtMessage::read(&msg("A02", &pv1(&[(3, "WARD8^^B2"), (44, "notatime")]))).is_ok());
        let bad = format!(
            "{MSH}A03|M1|P|2.4\rEVN|A03|x\r{}\r",
            pv1(&[(3, "W"), (36, "1"), (37, "19")])
        );
        assert!(matches!(
            AdtMessage::read(&bad),
            Err(DomainError::Invalid { field: "when", .. })
        ));
    }

    #[test]
    fn discharges_cancellations_and_leave_read_as_what_they_ask() {
        let d = AdtMessage::read(&msg(
            "A03",
            &pv1(&[(3, "WARD7^^BED12"), (19, "V1"), (36, "1"), (37, "19")]),
        ))
        .unwrap();
        assert!(
            matches!(d.action, AdtAction::Discharge(ref m, ref dd) if m.as_str() == "1" && dd.as_str() == "19")
        );
        assert!(matches!(
            AdtMessage::read(&msg("A12", "PV1|1|I")).unwrap().action,
            AdtAction::Cancel("transfer")
        ));
        assert!(matches!(
            AdtMessage::read(&msg("A21", "PV1|1|I")).unwrap().action,
            AdtAction::Leave(true)
        ));
        let bad = AdtMessage::read(&msg("A01", &pv1(&[(3, "WARD7^^BED12"), (4, "99")])));
        assert!(matches!(
            bad,
            Err(DomainError::Invalid {
                field: "admission_method",
                ..
            })
        ));
        assert!(
            AdtMessage::read(&msg("A02", "PV1|1|I")).is_err(),
            "a transfer needs a location"
        );
    }
}
