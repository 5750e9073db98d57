//! HL7 v2 ADT in: A01, A03, A04, A08, A28, A31 (register or update the patient PID names) and
//! A40 (merge; the prior identifier in MRG-1); and the encounter events A01, A02, A03, A05,
//! A11, A12, A13, A21, A22, A38, whose person part (the PID) is applied here and whose
//! encounter part (MSH, EVN, PV1, PV2 — no demographics) is forwarded to the PAS service on
//! `tessera.<ods>.mpi.adt` in the transaction that records the ACK (ADR 33): one feed per
//! trust, both effects. Every message gets an ACK: AA applied, AE not applied (an
//! application error, with ERR), AR rejected (malformed, unsupported, or not for this
//! trust). A message whose MSH-10 was seen before from the same sender gets the same ACK
//! again and is not applied twice. Used by the MLLP listener and by `POST /hl7/v2`.
use super::auth::{Authorized, Caller, Ending};
use super::errors;
use super::problem::{ApiError, Flavour};
mod pid;

use super::usecases::{self, MergedByIdentifiers, Upserted};
use actix_web::{post, web, HttpResponse};
use pid::{identifiers, Pid};
use sea_orm::ConnectionTrait;
use tessera_edge::codes::ErrorCode as ErrorCodeOf;
use tessera_hl7::{Ack, ErrorCode, Message};

pub const ER7: &str = "x-application/hl7-v2+er7";
const APPLICATION: &str = "TESSERA";
const REGISTER_OR_UPDATE: &[&str] = &["A01", "A03", "A04", "A08", "A28", "A31"];
/// Encounter events: their person part is applied here, their encounter part forwarded.
const ENCOUNTER: &[&str] = &[
    "A01", "A02", "A03", "A05", "A11", "A12", "A13", "A21", "A22", "A38",
];
/// What of an encounter message is forwarded: no PID, PD1, NK1 (demographics stay here).
const FORWARDED: &[&str] = &["MSH", "EVN", "PV1", "PV2"];
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
            refused(auth, &e.to_string(), parse_refusal(&e)).await;
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
    let (applied, patient) = apply(auth, &msg).await;
    let accepted = matches!(applied.code, tessera_hl7::AckCode::Accept);
    let ack = render(applied);
    let trigger = msg.message_type().1;
    let encounter = ENCOUNTER.contains(&trigger.as_str()) && msg.segment("PV1").is_some();
    if let (true, true, Some(patient)) = (accepted, encounter, patient) {
        let forward = tessera_proto::mpi::v1::AdtForwarded {
            patient_id: patient,
            sender: sender.clone(),
            control_id: control.clone(),
            trigger,
            er7: msg.render_only(FORWARDED),
            received_at: chrono::Utc::now().to_rfc3339(),
        };
        let event = crate::events::adt_forwarded(&auth.tenant, forward, &auth.trace);
        if tessera_events::enqueue(&txn, event).await.is_err() {
            return render(internal());
        }
    }
    // The ACK is answered only once it (and a forwarded encounter part) is committed: a
    // sender never hears AA for what a crash could lose.
    let recorded = txn
        .execute(stmt(
            "INSERT INTO hl7_message (sender, control_id, ack, received_at) VALUES ($1, $2, $3, now())",
            vec![sender.into(), control.into(), ack.clone().into()],
        ))
        .await;
    match recorded {
        Ok(_) if txn.commit().await.is_ok() => ack,
        _ => render(internal()),
    }
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
async fn refused(auth: &Authorized, text: &str, code: ErrorCodeOf) {
    let e = ApiError::new(code, text.to_string());
    let _ = auth.audit(Ending::from_error(None, &e)).await;
}

/// The message-level checks: AR when any fails.
/// The audit reason of a message that is not HL7 v2 at all.
fn parse_refusal(e: &tessera_hl7::ParseError) -> ErrorCodeOf {
    use tessera_hl7::ParseError as P;
    match e {
        P::Empty => errors::HL7_EMPTY,
        P::NoMsh => errors::HL7_NO_MSH,
        P::BadDelimiters => errors::HL7_DELIMITERS,
        P::BadSegmentName(_) => errors::HL7_SEGMENT_NAME,
        P::Encoding => errors::HL7_ENCODING,
    }
}

fn check(m: &Message, auth: &Authorized) -> Result<(), (Ack, ErrorCodeOf)> {
    let reject =
        |code, text: String, at: &str, reason| Err((Ack::reject(code, text).at(at), reason));
    if m.control_id().trim().is_empty() {
        return reject(
            ErrorCode::RequiredFieldMissing,
            "MSH-10 (message control id) is required".into(),
            "MSH^1^10",
            errors::HL7_CONTROL_ID,
        );
    }
    let version = m.version();
    if !VERSIONS.contains(&version.as_str()) {
        return reject(
            ErrorCode::UnsupportedVersion,
            format!("version {version:?} is not supported; send 2.3 to 2.5"),
            "MSH^1^12",
            errors::HL7_VERSION,
        );
    }
    let (kind, trigger) = m.message_type();
    if kind != "ADT" {
        return reject(
            ErrorCode::UnsupportedMessageType,
            format!("message type {kind:?} is not accepted here; send ADT"),
            "MSH^1^9",
            errors::HL7_MESSAGE_TYPE,
        );
    }
    if trigger != "A40"
        && !REGISTER_OR_UPDATE.contains(&trigger.as_str())
        && !ENCOUNTER.contains(&trigger.as_str())
    {
        return reject(
            ErrorCode::UnsupportedEventCode,
            format!("event {trigger:?} is not supported"),
            "MSH^1^9^2",
            errors::HL7_EVENT,
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
            errors::HL7_WRONG_TRUST,
        );
    }
    if m.segment("PID").is_none() {
        return reject(
            ErrorCode::SegmentSequence,
            "the PID segment is missing".into(),
            "PID",
            errors::HL7_NO_PID,
        );
    }
    // A01 and A03 without a visit are person events, as before; the others are about a visit.
    let visit_only =
        ENCOUNTER.contains(&trigger.as_str()) && !REGISTER_OR_UPDATE.contains(&trigger.as_str());
    if visit_only && m.segment("PV1").is_none() {
        return reject(
            ErrorCode::SegmentSequence,
            format!("{trigger} needs a PV1 segment (the visit)"),
            "PV1",
            errors::HL7_NO_PV1,
        );
    }
    if trigger == "A40" && m.segments_named("MRG").count() != 1 {
        return reject(
            ErrorCode::SegmentSequence,
            "A40 needs exactly one MRG segment (one merge per message)".into(),
            "MRG",
            errors::HL7_MRG,
        );
    }
    Ok(())
}

/// Applies a checked message: AA or AE, and the patient it applied to (for a forward).
async fn apply(auth: &Authorized, m: &Message) -> (Ack, Option<String>) {
    let trigger = m.message_type().1;
    let survivor = identifiers(m, "PID", 3, auth.tenant.ods());
    if survivor.is_empty() {
        let ack = Ack::error(
            ErrorCode::RequiredFieldMissing,
            "PID-3 has no NHS number (NHS^NH) or local number (MR)",
        )
        .at("PID^1^3");
        return (ack, None);
    }
    if trigger == "A40" {
        let prior = identifiers(m, "MRG", 1, auth.tenant.ods());
        if prior.is_empty() {
            let ack = Ack::error(
                ErrorCode::RequiredFieldMissing,
                "MRG-1 has no prior identifier",
            )
            .at("MRG^1^1");
            return (ack, None);
        }
        let ack = match usecases::merge_by_identifiers(auth, survivor, prior).await {
            Ok(MergedByIdentifiers::Merged(m)) => {
                tracing::info!(merge = %m.id, survivor = %m.survivor_id, merged = %m.merged_id, "hl7 A40 applied");
                Ack::accept()
            }
            Ok(MergedByIdentifiers::AlreadyMerged) => Ack::accept(),
            Err(e) => application_error(&e),
        };
        return (ack, None);
    }
    let pid = Pid::read(m);
    let tenant = auth.tenant.ods().clone();
    let result = usecases::upsert(auth, survivor, move |current| pid.apply(current, &tenant)).await;
    match result {
        Ok(Upserted::Registered(p)) => {
            tracing::info!(patient = %p.id, event = %trigger, "hl7 registered a patient");
            (
                Ack::accept(),
                Some(p.merged_into.unwrap_or(p.id).to_string()),
            )
        }
        Ok(Upserted::Updated(p, changed)) => {
            tracing::info!(patient = %p.id, event = %trigger, changed, "hl7 updated a patient");
            (Ack::accept(), Some(p.id.to_string()))
        }
        Err(e) => (application_error(&e), None),
    }
}

fn application_error(e: &ApiError) -> Ack {
    if e.status.is_server_error() {
        return internal();
    }
    let (code, at) = match e.code {
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
