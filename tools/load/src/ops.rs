//! The operations a region's staff perform, as HTTP requests against the running platform,
//! and the mix they are drawn from. Every write carries an idempotency key.
use crate::platform::Trust;
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Register,
    Read,
    Search,
    FhirRead,
    Match,
    Referral,
    WaitingList,
    BreakGlass,
    AccessReport,
    Book,
    FreeSlots,
    Admit,
    Discharge,
    BedBoard,
    /// A bed made available after a discharge (sent after each one, never drawn).
    BedReady,
    /// A ward round note about a patient in the load ward (the ward team's relationship).
    Note,
    /// That patient's documents, newest first.
    DocList,
}

impl Op {
    pub const ALL: [Op; 17] = [
        Op::Register,
        Op::Read,
        Op::Search,
        Op::FhirRead,
        Op::Match,
        Op::Referral,
        Op::WaitingList,
        Op::BreakGlass,
        Op::AccessReport,
        Op::Book,
        Op::FreeSlots,
        Op::Admit,
        Op::Discharge,
        Op::BedBoard,
        Op::BedReady,
        Op::Note,
        Op::DocList,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Register => "mpi register",
            Op::Read => "mpi read",
            Op::Search => "mpi search",
            Op::FhirRead => "mpi FHIR read",
            Op::Match => "mpi $match",
            Op::Referral => "referral create",
            Op::WaitingList => "waiting list",
            Op::BreakGlass => "break-glass",
            Op::AccessReport => "who looked",
            Op::Book => "appointment book",
            Op::FreeSlots => "first free slots",
            Op::Admit => "admission",
            Op::Discharge => "discharge",
            Op::BedBoard => "bed board",
            Op::BedReady => "bed made ready",
            Op::Note => "clinical note",
            Op::DocList => "patient's documents",
        }
    }

    /// Parts per thousand of the default mix: mostly reads, as in a trust's day.
    fn weight(self) -> u32 {
        match self {
            Op::Register => 60,
            Op::Read => 260,
            Op::Search => 200,
            Op::FhirRead => 150,
            Op::Match => 100,
            Op::Referral => 50,
            Op::WaitingList => 20,
            Op::BreakGlass => 20,
            Op::AccessReport => 20,
            Op::Book => 30,
            Op::FreeSlots => 20,
            Op::Admit => 15,
            Op::Discharge => 10,
            Op::BedBoard => 15,
            Op::BedReady => 0,
            Op::Note => 15,
            Op::DocList => 15,
        }
    }

    pub fn draw(rng: &mut impl Rng) -> Op {
        let total: u32 = Op::ALL.iter().map(|o| o.weight()).sum();
        let mut n = rng.gen_range(0..total);
        for op in Op::ALL {
            if n < op.weight() {
                return op;
            }
            n -= op.weight();
        }
        Op::Read
    }

    /// Statuses that are a correct answer to this request (anything else is counted an
    /// error; a 5xx always is).
    pub fn expected(self, status: u16) -> bool {
        match self {
            Op::Register | Op::Referral | Op::BreakGlass | Op::Note => matches!(status, 200 | 201),
            // The slot drawn may be full, or the patient booked at that time already.
            Op::Book => matches!(status, 201 | 409),
            // The bed drawn may be taken, or the patient in hospital already.
            Op::Admit => matches!(status, 201 | 409),
            _ => status == 200,
        }
    }
}

/// One request ready to send.
pub struct Request {
    pub service: &'static str,
    pub method: Method,
    pub path: String,
    pub token: String,
    pub body: Option<Value>,
    /// The trust it is for (its ODS code), for the journal.
    pub trust: String,
    /// A write's idempotency key: one per write, sent again on every retry of it.
    pub key: Option<String>,
    /// A write's kind in the journal (`Op::write_kind`).
    pub write: Option<&'static str>,
    /// Read the answer's body (writes, and the set-up's reads); a load read discards it.
    pub keep_body: bool,
}

impl Request {
    /// A set-up request (the load's clinic, its sessions, its slots; its ward; a bed made
    /// ready after a discharge): answered and audited like any other, journaled as no write.
    pub fn setup(
        service: &'static str,
        ods: &str,
        token: &str,
        method: Method,
        path: String,
        body: Option<Value>,
    ) -> Self {
        Self {
            service,
            method,
            path,
            token: token.to_string(),
            body,
            trust: ods.to_string(),
            key: None,
            write: None,
            keep_body: true,
        }
    }
}

impl Op {
    /// The journal's name for a write; `None` for a read.
    pub fn write_kind(self) -> Option<&'static str> {
        match self {
            Op::Register => Some("register"),
            Op::Referral => Some("referral"),
            Op::BreakGlass => Some("break-glass"),
            Op::Book => Some("booking"),
            Op::Admit => Some("admission"),
            Op::Note => Some("document"),
            _ => None,
        }
    }
}

const FAMILIES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
];

fn birth_date(rng: &mut impl Rng) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.gen_range(1930..2020),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28)
    )
}

/// A new patient's registration body (no NHS number: generated patients never collide on one).
pub fn registration(rng: &mut impl Rng) -> Value {
    let family = FAMILIES[rng.gen_range(0..FAMILIES.len())];
    json!({
        "names": [{ "family": family, "given": [format!("Load{}", rng.gen_range(0..100_000))] }],
        "birth_date": birth_date(rng),
        "administrative_sex": if rng.gen_bool(0.5) { "female" } else { "male" },
    })
}

/// What a request is about, where it needs it: a patient of the trust, one of the load's
/// slots and its clinic, one of the load ward's beds and the ward, a spell to discharge.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    pub patient: &'a str,
    pub slot: &'a str,
    pub clinic: &'a str,
    pub ward: &'a str,
    pub bed: &'a str,
    pub spell: &'a str,
    /// A patient the load admitted a while ago (the ward team's relationship has reached
    /// every service by now).
    pub inpatient: &'a str,
}

/// The request for `op` in `trust` (named `ods`), about `to` where it needs it.
pub fn request(op: Op, ods: &str, trust: &Trust, to: Target<'_>, rng: &mut impl Rng) -> Request {
    let t = &trust.tokens;
    let patient = to.patient;
    let family = FAMILIES[rng.gen_range(0..FAMILIES.len())];
    let (service, method, path, token, body) = match op {
        Op::Register => (
            "mpi",
            Method::POST,
            "/patients".to_string(),
            &t.registration_clerk,
            Some(registration(rng)),
        ),
        Op::Read => (
            "mpi",
            Method::GET,
            format!("/patients/{patient}"),
            &t.registration_clerk,
            None,
        ),
        Op::Search => (
            "mpi",
            Method::GET,
            format!("/patients?family={family}&limit=10"),
            &t.viewer,
            None,
        ),
        Op::FhirRead => (
            "mpi",
            Method::GET,
            format!("/fhir/Patient/{patient}"),
            &t.viewer,
            None,
        ),
        Op::Match => (
            "mpi",
            Method::POST,
            "/patients/$match".to_string(),
            &t.viewer,
            Some(json!({ "family": family, "birth_date": birth_date(rng) })),
        ),
        Op::Referral => (
            "referrals",
            Method::POST,
            "/referrals".to_string(),
            &t.referrals_gsurg,
            Some(json!({
                "patient_id": patient, "source": "gp",
                "referrer": { "code": "G1234567", "organisation": "A81001" },
                "priority": "routine", "specialty": "100", "treatment_function": "100",
                "receiving_service": "General Surgery OPD", "receiving_team": "GSURG",
            })),
        ),
        Op::WaitingList => (
            "referrals",
            Method::GET,
            "/waiting-list?limit=20".to_string(),
            &t.referrals_gsurg,
            None,
        ),
        Op::BreakGlass => (
            "access",
            Method::POST,
            "/break-glass".to_string(),
            &t.emergency_clinician,
            Some(json!({
                "patient_id": patient, "reason_code": "04",
                "justification": "collapsed in ED", "duration_seconds": 300,
            })),
        ),
        Op::AccessReport => (
            "access",
            Method::GET,
            format!("/patients/{patient}/access-report"),
            &t.privacy_officer,
            None,
        ),
        Op::Book => (
            "scheduling",
            Method::POST,
            "/appointments".to_string(),
            &t.booking_clerk,
            Some(json!({ "slot_id": to.slot, "patient_id": patient })),
        ),
        Op::FreeSlots => {
            let from =
                chrono::Utc::now().date_naive() + chrono::Duration::days(rng.gen_range(1..150));
            (
                "scheduling",
                Method::GET,
                format!("/slots?clinic={}&from={from}&limit=10", to.clinic),
                &t.booking_clerk,
                None,
            )
        }
        Op::Admit => (
            "pas",
            Method::POST,
            "/admissions".to_string(),
            &t.ward_staff,
            Some(json!({
                "patient_id": patient, "bed_id": to.bed, "admission_method": "21",
                "admission_source": "19", "consultant": "C1234567", "treatment_function": "300",
            })),
        ),
        Op::Discharge => (
            "pas",
            Method::POST,
            format!("/spells/{}/discharge", to.spell),
            &t.ward_staff,
            Some(json!({ "discharge_method": "1", "discharge_destination": "19" })),
        ),
        Op::BedBoard => (
            "pas",
            Method::GET,
            format!("/wards/{}/board", to.ward),
            &t.ward_staff,
            None,
        ),
        Op::BedReady => (
            "pas",
            Method::PUT,
            format!("/beds/{}/state", to.bed),
            &t.ward_staff,
            Some(json!({ "state": "available" })),
        ),
        Op::Note => (
            "clinical-docs",
            Method::POST,
            "/documents".to_string(),
            &t.clinician,
            Some(json!({
                "patient_id": to.inpatient,
                "type": { "code": "371532007", "display": "Progress report" },
                "title": "Ward round",
                "text": format!("Ward round: comfortable overnight, observations stable.\nPlan: continue; review in {} hours.", rng.gen_range(4..24)),
            })),
        ),
        Op::DocList => (
            "clinical-docs",
            Method::GET,
            format!("/documents?patient_id={}&limit=20", to.inpatient),
            &t.clinician,
            None,
        ),
    };
    let key = body.as_ref().map(|_| uuid::Uuid::new_v4().to_string());
    Request {
        service,
        method,
        path,
        token: token.clone(),
        body,
        trust: ods.to_string(),
        keep_body: key.is_some(),
        key,
        write: op.write_kind(),
    }
}
