//! HL7 v2 ADT in: A01, A03, A04, A08, A28, A31 (register or update the patient PID names) and
//! A40 (merge; the prior identifier in MRG-1). Every message gets an ACK: AA applied, AE not
//! applied (an application error, with ERR), AR rejected (malformed, unsupported, or not for
//! this trust). A message whose MSH-10 was seen before from the same sender gets the same ACK
//! again and is not applied twice. Used by the MLLP listener and by `POST /hl7/v2`.
use super::auth::{Authorized, Caller, Ending};
use super::problem::{ApiError, Flavour};
use super::usecases::{self, Identifiers, MergedByIdentifiers, Upserted};
use crate::domain::parse_inputs::{AddressInput, ContactInput, LocalNumberInput, NameInput};
use crate::domain::{Demographics, DemographicsInput};
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use sea_orm::ConnectionTrait;
use tessera_hl7::{Ack, ErrorCode, Message};
use tessera_nhs::{NhsNumber, OdsCode};

pub const ER7: &str = "x-application/hl7-v2+er7";
const APPLICATION: &str = "TESSERA";
const REGISTER_OR_UPDATE: &[&str] = &["A01", "A03", "A04", "A08", "A28", "A31"];
const VERSIONS: &[&str] = &["2.3", "2.3.1", "2.4", "2.5", "2.5.1"];

/// Answers one message for the trust `auth` acts for: the ACK, as ER7 text.
pub async fn handle(auth: &Authorized, raw: &[u8]) -> String {
    let ack = answer(auth, raw).await;
    count(auth, &ack);
    ack
}

fn count(auth: &Authorized, ack: &str) {
    let code = Message::parse(ack)
        .map(|m| m.value("MSA", 1, 0, 1))
        .unwrap_or_default();
    auth.state
        .gate
        .metrics
        .hl7_messages
        .with_label_values(&[auth.tenant.as_str(), code.as_str()])
        .inc();
}

/// The trust is not serving yet (provisioning) or is suspended: not applied; resend later.
pub fn not_ready(auth: &Authorized, raw: &[u8]) -> String {
    let msg = Message::parse_bytes(raw).ok();
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let ack = Ack::error(
        ErrorCode::ApplicationRecordLocked,
        "this trust is not being served now; resend later",
    )
    .render(
        msg.as_ref(),
        APPLICATION,
        auth.tenant.as_str(),
        &ack_control_id(),
        &stamp,
    );
    count(auth, &ack);
    ack
}

async fn answer(auth: &Authorized, raw: &[u8]) -> String {
    let facility = auth.tenant.as_str().to_string();
    let ack_id = ack_control_id();
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let msg = match Message::parse_bytes(raw) {
        Ok(m) => m,
        Err(e) => {
            refused(auth, &e.to_string(), e.code()).await;
            return Ack::reject(ErrorCode::SegmentSequence, e.to_string())
                .at("MSH^1")
                .render(None, APPLICATION, &facility, &ack_id, &stamp);
        }
    };
    let render = |ack: Ack| ack.render(Some(&msg), APPLICATION, &facility, &ack_id, &stamp);
    if let Err((ack, code)) = check(&msg, auth) {
        let text = ack.error.as_ref().map(|e| e.1.clone()).unwrap_or_default();
        refused(auth, &text, code).await;
        return render(ack);
    }
    // Resends: the same sender's MSH-10 is answered from the record, never applied twice.
    // The advisory lock makes a concurrent resend wait for the first to finish.
    let sender = format!("{}|{}", msg.sending_facility(), msg.sending_application());
    let control = msg.control_id();
    let txn = match auth.begin().await {
        Ok(t) => t,
        Err(_) => return render(internal()),
    };
    let seen = async {
        txn.execute(stmt(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
            vec![format!("hl7|{sender}|{control}").into()],
        ))
        .await?;
        txn.query_one(stmt(
            "SELECT ack FROM hl7_message WHERE sender = $1 AND control_id = $2",
            vec![sender.clone().into(), control.clone().into()],
        ))
        .await
    }
    .await;
    match seen {
        Ok(Some(row)) => {
            if let Ok(ack) = row.try_get::<String>("", "ack") {
                let _ = txn.rollback().await;
                return ack;
            }
        }
        Ok(None) => {}
        Err(_) => return render(internal()),
    }
    let ack = render(apply(auth, &msg).await);
    let recorded = txn
        .execute(stmt(
            "INSERT INTO hl7_message (sender, control_id, ack, received_at) VALUES ($1, $2, $3, now())",
            vec![sender.into(), control.into(), ack.clone().into()],
        ))
        .await;
    if recorded.is_ok() {
        let _ = txn.commit().await;
    }
    ack
}

use tessera_tenancy::stmt;

fn ack_control_id() -> String {
    // MSH-10 is at most 20 characters in v2.4; UUIDv7's tail is its random part.
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("T{}", &id[id.len() - 19..])
}

fn internal() -> Ack {
    Ack::error(
        ErrorCode::ApplicationInternalError,
        "the message could not be applied now; resend it",
    )
}

/// An audit record for a message refused before any work.
async fn refused(auth: &Authorized, text: &str, code: &str) {
    let e = ApiError::new(StatusCode::BAD_REQUEST, code, text.to_string());
    let _ = auth.audit(Ending::from_error(None, &e)).await;
}

/// The message-level checks: AR when any fails.
fn check(m: &Message, auth: &Authorized) -> Result<(), (Ack, &'static str)> {
    let reject =
        |code, text: String, at: &str, reason| Err((Ack::reject(code, text).at(at), reason));
    if m.control_id().trim().is_empty() {
        return reject(
            ErrorCode::RequiredFieldMissing,
            "MSH-10 (message control id) is required".into(),
            "MSH^1^10",
            "hl7.control-id",
        );
    }
    let version = m.version();
    if !VERSIONS.contains(&version.as_str()) {
        return reject(
            ErrorCode::UnsupportedVersion,
            format!("version {version:?} is not supported; send 2.3 to 2.5"),
            "MSH^1^12",
            "hl7.version",
        );
    }
    let (kind, trigger) = m.message_type();
    if kind != "ADT" {
        return reject(
            ErrorCode::UnsupportedMessageType,
            format!("message type {kind:?} is not accepted here; send ADT"),
            "MSH^1^9",
            "hl7.message-type",
        );
    }
    if trigger != "A40" && !REGISTER_OR_UPDATE.contains(&trigger.as_str()) {
        return reject(
            ErrorCode::UnsupportedEventCode,
            format!("event {trigger:?} is not supported"),
            "MSH^1^9^2",
            "hl7.event",
        );
    }
    // MSH-4: the trust's ODS code, or one of its sites (the code plus two characters).
    let facility = m.sending_facility().trim().to_uppercase();
    let trust = auth.tenant.as_str();
    let ours =
        facility == trust || (facility.len() == trust.len() + 2 && facility.starts_with(trust));
    if !ours {
        return reject(
            ErrorCode::TableValueNotFound,
            format!("MSH-4 names {facility:?}, but this connection is for {trust}"),
            "MSH^1^4",
            "hl7.wrong-trust",
        );
    }
    if m.segment("PID").is_none() {
        return reject(
            ErrorCode::SegmentSequence,
            "the PID segment is missing".into(),
            "PID",
            "hl7.no-pid",
        );
    }
    if trigger == "A40" && m.segments_named("MRG").count() != 1 {
        return reject(
            ErrorCode::SegmentSequence,
            "A40 needs exactly one MRG segment (one merge per message)".into(),
            "MRG",
            "hl7.mrg",
        );
    }
    Ok(())
}

/// Applies a checked message: AA or AE.
async fn apply(auth: &Authorized, m: &Message) -> Ack {
    let trigger = m.message_type().1;
    let survivor = identifiers(m, "PID", 3, auth.tenant.ods());
    if survivor.is_empty() {
        return Ack::error(
            ErrorCode::RequiredFieldMissing,
            "PID-3 has no NHS number (NHS^NH) or local number (MR)",
        )
        .at("PID^1^3");
    }
    if trigger == "A40" {
        let prior = identifiers(m, "MRG", 1, auth.tenant.ods());
        if prior.is_empty() {
            return Ack::error(
                ErrorCode::RequiredFieldMissing,
                "MRG-1 has no prior identifier",
            )
            .at("MRG^1^1");
        }
        return match usecases::merge_by_identifiers(auth, survivor, prior).await {
            Ok(MergedByIdentifiers::Merged(m)) => {
                tracing::info!(merge = %m.id, survivor = %m.survivor_id, merged = %m.merged_id, "hl7 A40 applied");
                Ack::accept()
            }
            Ok(MergedByIdentifiers::AlreadyMerged) => Ack::accept(),
            Err(e) => application_error(&e),
        };
    }
    let pid = Pid::read(m);
    let tenant = auth.tenant.ods().clone();
    let result = usecases::upsert(auth, survivor, move |current| pid.apply(current, &tenant)).await;
    match result {
        Ok(Upserted::Registered(p)) => {
            tracing::info!(patient = %p.id, event = %trigger, "hl7 registered a patient");
            Ack::accept()
        }
        Ok(Upserted::Updated(p, changed)) => {
            tracing::info!(patient = %p.id, event = %trigger, changed, "hl7 updated a patient");
            Ack::accept()
        }
        Err(e) => application_error(&e),
    }
}

fn application_error(e: &ApiError) -> Ack {
    if e.status.is_server_error() {
        return internal();
    }
    let (code, at) = match e.code.as_str() {
        "validation" => {
            let field = e
                .errors
                .first()
                .map(|f| f.field.as_str())
                .unwrap_or_default();
            (ErrorCode::DataTypeError, location(field))
        }
        "patient.unknown-identifier" | "not-found" => (ErrorCode::UnknownKeyIdentifier, "PID^1^3"),
        "patient.duplicate-nhs-number" | "patient.duplicate-local-number" => {
            (ErrorCode::DuplicateKeyIdentifier, "PID^1^3")
        }
        c if c.starts_with("merge.") => (ErrorCode::UnknownKeyIdentifier, "MRG^1^1"),
        _ => (ErrorCode::ApplicationInternalError, "MSH^1"),
    };
    let mut text = e.detail.clone();
    for f in &e.errors {
        text.push_str(&format!("; {}: {}", f.field, f.message));
    }
    Ack::error(code, text).at(at)
}

/// Where in the message a demographics field came from.
fn location(field: &str) -> &'static str {
    let top = field.split(['[', '.']).next().unwrap_or_default();
    match top {
        "nhs_number" | "local_numbers" => "PID^1^3",
        "names" => "PID^1^5",
        "birth_date" => "PID^1^7",
        "administrative_sex" => "PID^1^8",
        "addresses" => "PID^1^11",
        "telecom" => "PID^1^13",
        "nhs_number_verification_status" => "PID^1^32",
        "general_practice" => "PD1^1^3",
        _ => "PID^1",
    }
}

/// NHS numbers (`^^^NHS^NH`) and local numbers (`^^^<ODS>^MR`) in a CX field.
fn identifiers(m: &Message, segment: &str, field: usize, tenant: &OdsCode) -> Identifiers {
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
struct Pid {
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
    fn read(m: &Message) -> Self {
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
    fn apply(self, current: Option<&Demographics>, tenant: &OdsCode) -> DemographicsInput {
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

/// `POST /hl7/v2`: one ER7 message in the body, its ACK in the answer (200 whatever the
/// ACK code: the ACK is the answer). The token's trust is the connection's trust.
#[utoipa::path(
    tag = "hl7",
    request_body(description = "One HL7 v2 ADT message (ER7); `text/plain` is accepted too", content(
        (String = "x-application/hl7-v2+er7"),
        (String = "text/plain")
    )),
    responses(
        (status = 200, description = "The ACK or NACK (MSA-1 AA, AE or AR)", body = String, content_type = "x-application/hl7-v2+er7")
    )
)]
#[post("/hl7/v2")]
pub async fn http(caller: Caller, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let auth = caller.permit(Flavour::Json).await?;
    let ack = handle(&auth, &body).await;
    Ok(HttpResponse::Ok().content_type(ER7).body(ack))
}
