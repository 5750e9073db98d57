//! What a message's PID (and MRG) segments say of the patient: identifiers from CX fields,
//! and the demographics PID carries as changes to apply to the patient as stored (HL7's
//! `""` deletes a field; an empty field leaves it as it is).
use super::super::usecases::Identifiers;
use crate::domain::parse_inputs::{AddressInput, ContactInput, LocalNumberInput, NameInput};
use crate::domain::{Demographics, DemographicsInput};
use tessera_hl7::Message;
use tessera_nhs::{NhsNumber, OdsCode};

/// NHS numbers (`^^^NHS^NH`) and local numbers (`^^^<ODS>^MR`) in a CX field.
pub(super) fn identifiers(
    m: &Message,
    segment: &str,
    field: usize,
    tenant: &OdsCode,
) -> Identifiers {
    let mut ids = Identifiers::default();
    let Some(seg) = m.segment(segment) else {
        return ids;
    };
    for id in cx_identifiers(seg, &m.delimiters, field) {
        match id {
            Cx::Nhs(n) => {
                if let Ok(n) = NhsNumber::parse(&n) {
                    ids.nhs_number = Some(n);
                }
            }
            Cx::Local { authority, value } => {
                let assigner = OdsCode::parse(&authority).unwrap_or_else(|_| tenant.clone());
                ids.local.push((assigner, value));
            }
        }
    }
    ids
}

/// One identifier of a CX field: an NHS number (`^^^NHS^NH`) or a local number (`^^^<ODS>^MR`,
/// or no type); other kinds are ignored.
enum Cx {
    Nhs(String),
    Local { authority: String, value: String },
}

fn cx_identifiers(
    seg: &tessera_hl7::Segment,
    d: &tessera_hl7::Delimiters,
    field: usize,
) -> Vec<Cx> {
    seg.repetitions(d, field)
        .into_iter()
        .filter_map(|cx| {
            let part = |i: usize| cx.get(i).map(|v| v.trim().to_string()).unwrap_or_default();
            let (value, authority, kind) =
                (part(0), part(3).to_uppercase(), part(4).to_uppercase());
            if value.is_empty() {
                None
            } else if kind == "NH" || authority == "NHS" {
                Some(Cx::Nhs(value))
            } else if kind == "MR" || kind.is_empty() {
                Some(Cx::Local { authority, value })
            } else {
                None
            }
        })
        .collect()
}

/// `""` in HL7 means "delete the value"; an empty field means "no change".
enum Change<T> {
    Keep,
    Clear,
    Set(T),
}

/// The patient part of a PID (and PD1), as changes to apply to what is on record.
pub(super) struct Pid {
    nhs_number: Option<String>,
    status: Option<String>,
    local: Vec<LocalNumberInput>,
    names: Option<Vec<NameInput>>,
    birth_date: Option<String>,
    sex: Option<String>,
    addresses: Change<Vec<AddressInput>>,
    telecom: Change<Vec<ContactInput>>,
    practice: Change<String>,
    /// PD1-12 protection indicator: Y restricts (the S-flag), N lifts it.
    restricted: Option<bool>,
}

impl Pid {
    pub(super) fn read(m: &Message) -> Self {
        let d = &m.delimiters;
        let Some(pid) = m.segment("PID") else {
            return Self::empty();
        };
        let raw_is_delete = |seg: &tessera_hl7::Segment, n: usize| {
            seg.repetitions(d, n)
                .first()
                .and_then(|r| r.first())
                .is_some_and(|v| v == "\"\"")
        };
        let mut nhs_number = None;
        let mut local = Vec::new();
        for id in cx_identifiers(pid, d, 3) {
            match id {
                Cx::Nhs(n) => nhs_number = Some(n),
                Cx::Local { authority, value } => local.push(LocalNumberInput {
                    assigner: authority,
                    value,
                }),
            }
        }
        let names: Vec<NameInput> = pid
            .repetitions(d, 5)
            .into_iter()
            .map(|xpn| {
                let c = |i: usize| xpn.get(i).cloned().unwrap_or_default();
                let given: Vec<String> = [c(1), c(2)]
                    .into_iter()
                    .filter(|g| !g.trim().is_empty())
                    .collect();
                let r#use = match c(6).as_str() {
                    "L" => "official",
                    "D" => "usual",
                    "M" => "maiden",
                    "N" | "A" => "nickname",
                    _ => "official",
                };
                NameInput {
                    family: c(0),
                    given,
                    prefix: Some(c(4)).filter(|p| !p.trim().is_empty()),
                    r#use: Some(r#use.into()),
                }
            })
            .collect();
        let dob = pid.component(d, 7, 0, 1);
        let birth_date = (!dob.is_empty()).then(|| {
            let digits: String = dob.chars().take(8).collect();
            if digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()) {
                format!("{}-{}-{}", &digits[0..4], &digits[4..6], &digits[6..8])
            } else {
                dob.clone()
            }
        });
        let sex = Some(pid.component(d, 8, 0, 1))
            .filter(|s| !s.is_empty())
            .map(|s| match s.as_str() {
                "M" => "male".to_string(),
                "F" => "female".to_string(),
                "O" | "A" => "other".to_string(),
                "U" | "N" => "unknown".to_string(),
                other => other.to_string(),
            });
        let addresses = if raw_is_delete(pid, 11) {
            Change::Clear
        } else {
            let list: Vec<AddressInput> = pid
                .repetitions(d, 11)
                .into_iter()
                .map(|xad| {
                    let c = |i: usize| {
                        Some(xad.get(i).cloned().unwrap_or_default())
                            .filter(|v| !v.trim().is_empty())
                    };
                    AddressInput {
                        lines: [c(0), c(1)].into_iter().flatten().collect(),
                        city: c(2),
                        district: c(3),
                        postcode: c(4),
                        country: c(5),
                        r#use: Some(match c(6).as_deref() {
                            Some("B") | Some("O") => "work".into(),
                            Some("C") | Some("BA") => "temp".into(),
                            _ => "home".into(),
                        }),
                        period_start: None,
                        period_end: None,
                    }
                })
                .collect();
            if list.is_empty() {
                Change::Keep
            } else {
                Change::Set(list)
            }
        };
        let telecom = if raw_is_delete(pid, 13) {
            Change::Clear
        } else {
            let mut list: Vec<ContactInput> = Vec::new();
            for (field, default_use) in [(13, "home"), (14, "work")] {
                for xtn in pid.repetitions(d, field) {
                    let c = |i: usize| xtn.get(i).cloned().unwrap_or_default();
                    let equipment = c(2);
                    if c(1) == "NET" || equipment == "Internet" || equipment == "X.400" {
                        let address = if c(3).is_empty() { c(0) } else { c(3) };
                        if !address.is_empty() {
                            list.push(ContactInput {
                                system: "email".into(),
                                value: address,
                                r#use: Some(default_use.into()),
                            });
                        }
                    } else if !c(0).is_empty() {
                        let r#use = if equipment == "CP" {
                            "mobile"
                        } else {
                            default_use
                        };
                        list.push(ContactInput {
                            system: "phone".into(),
                            value: c(0),
                            r#use: Some(r#use.into()),
                        });
                    }
                }
            }
            if list.is_empty() {
                Change::Keep
            } else {
                Change::Set(list)
            }
        };
        let status = Some(pid.component(d, 32, 0, 1))
            .filter(|s| !s.is_empty())
            .map(|s| s.trim_start_matches("NSTS").to_string());
        let practice = match m.segment("PD1") {
            Some(pd1) if raw_is_delete(pd1, 3) => Change::Clear,
            Some(pd1) => {
                let ods = pd1.component(d, 3, 0, 3);
                let ods = if ods.is_empty() {
                    pd1.component(d, 3, 0, 10)
                } else {
                    ods
                };
                if ods.is_empty() {
                    Change::Keep
                } else {
                    Change::Set(ods)
                }
            }
            None => Change::Keep,
        };
        let restricted =
            m.segment("PD1")
                .and_then(|pd1| match pd1.component(d, 12, 0, 1).as_str() {
                    "Y" => Some(true),
                    "N" => Some(false),
                    _ => None,
                });
        Self {
            restricted,
            nhs_number,
            status,
            local,
            names: Some(names).filter(|n| !n.is_empty()),
            birth_date,
            sex,
            addresses,
            telecom,
            practice,
        }
    }

    fn empty() -> Self {
        Self {
            nhs_number: None,
            status: None,
            local: Vec::new(),
            names: None,
            birth_date: None,
            sex: None,
            addresses: Change::Keep,
            telecom: Change::Keep,
            practice: Change::Keep,
            restricted: None,
        }
    }

    /// The demographics to record: what is on record, changed by what the message carries.
    pub(super) fn apply(
        self,
        current: Option<&Demographics>,
        tenant: &OdsCode,
    ) -> DemographicsInput {
        let mut input = current.map(DemographicsInput::from).unwrap_or_default();
        if let Some(n) = self.nhs_number {
            input.nhs_number = Some(n);
        }
        if let Some(s) = self.status {
            input.nhs_number_verification_status = Some(s);
        }
        for mut l in self.local {
            if l.assigner.is_empty() {
                l.assigner = tenant.to_string();
            }
            let known = input
                .local_numbers
                .iter()
                .any(|k| k.assigner.eq_ignore_ascii_case(&l.assigner) && k.value == l.value);
            if !known {
                input.local_numbers.push(l);
            }
        }
        if let Some(n) = self.names {
            input.names = n;
        }
        if let Some(b) = self.birth_date {
            input.birth_date = Some(b);
        }
        if let Some(s) = self.sex {
            input.administrative_sex = Some(s);
        }
        match self.addresses {
            Change::Keep => {}
            Change::Clear => input.addresses.clear(),
            Change::Set(new) => {
                // The old current addresses become history, not lost.
                let today = chrono::Utc::now().date_naive().to_string();
                let mut kept: Vec<AddressInput> = input
                    .addresses
                    .into_iter()
                    .filter(|old| !new.iter().any(|n| same_address(n, old)))
                    .map(|mut old| {
                        if old.period_end.is_none() {
                            old.period_end = Some(today.clone());
                            old.r#use = Some("old".into());
                        }
                        old
                    })
                    .collect();
                let mut fresh = new;
                fresh.append(&mut kept);
                input.addresses = fresh;
            }
        }
        match self.telecom {
            Change::Keep => {}
            Change::Clear => input.telecom.clear(),
            Change::Set(t) => input.telecom = t,
        }
        match self.practice {
            Change::Keep => {}
            Change::Clear => input.general_practice = None,
            Change::Set(p) => input.general_practice = Some(p),
        }
        if let Some(r) = self.restricted {
            input.restricted = Some(r);
        }
        input
    }
}

fn same_address(a: &AddressInput, b: &AddressInput) -> bool {
    let norm = |s: &Option<String>| {
        s.as_deref()
            .unwrap_or_default()
            .replace(' ', "")
            .to_uppercase()
    };
    a.lines == b.lines && norm(&a.postcode) == norm(&b.postcode)
}
