//! A referral as the JSON API takes it, and its parsing: every invalid field named at once.
//! The FHIR API maps a `ServiceRequest` onto [`ReferralBody`] and shares this parsing.
use crate::domain::{code, date, specialty_code, DomainError, Ppid, Priority, Source, Ubrn};
use crate::store::{NewPathway, NewReferral};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use tessera_edge::problem::FieldError;
use tessera_patients::PatientId;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferrerBody {
    /// The referrer's professional code (GMC, GMP or local).
    pub code: String,
    /// The referring organisation's ODS code.
    pub organisation: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentBody {
    pub url: String,
    pub content_type: String,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayBody {
    pub ppid: String,
    pub issuer: String,
    /// `existing` (refer within a pathway this trust holds; the default), `new` (a pathway
    /// with this PPID), `transfer-in` (from another provider, with `original_start`).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub original_start: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralBody {
    pub patient_id: String,
    /// `e-rs`, `gp`, `consultant`, `self`.
    pub source: String,
    #[serde(default)]
    pub ubrn: Option<String>,
    pub referrer: ReferrerBody,
    /// `routine`, `urgent`, `two-week-wait`.
    pub priority: String,
    pub specialty: String,
    pub treatment_function: String,
    pub receiving_service: String,
    pub receiving_team: String,
    #[serde(default)]
    pub receiving_clinician: Option<String>,
    #[serde(default)]
    pub received_on: Option<String>,
    #[serde(default)]
    pub ubrn_converted_on: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentBody>,
    /// To a consultant-led service: on an RTT pathway (default true).
    #[serde(default)]
    pub rtt: Option<bool>,
    #[serde(default)]
    pub pathway: Option<PathwayBody>,
}

pub(super) fn not_future(
    field: &'static str,
    d: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, DomainError> {
    // A day's grace for clocks ahead of UTC (British Summer Time).
    if d > today + Duration::days(1) {
        Err(DomainError::invalid(
            field,
            "future",
            "a date that has happened",
        ))
    } else {
        Ok(d)
    }
}

fn ods(field: &'static str, s: &str) -> Result<String, DomainError> {
    let t = s.trim().to_ascii_uppercase();
    if (3..=8).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(t)
    } else {
        Err(DomainError::invalid(
            field,
            "format",
            "an ODS code (3–8 letters and digits)",
        ))
    }
}

/// Field errors collected, so a request hears of every invalid field at once.
struct Collect(Vec<FieldError>);

impl Collect {
    fn take<T>(&mut self, r: Result<T, DomainError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(DomainError::Invalid {
                field,
                code,
                message,
            }) => {
                self.0.push(FieldError::new(field, code, message));
                None
            }
            Err(e) => {
                self.0
                    .push(FieldError::new("referral", "invalid", e.to_string()));
                None
            }
        }
    }
}

/// Parses a referral, naming every invalid field at once.
pub fn parse_referral(
    b: ReferralBody,
    actor: &str,
    today: NaiveDate,
) -> Result<NewReferral, Vec<FieldError>> {
    let mut c = Collect(Vec::new());
    let patient = c.take(
        PatientId::parse(&b.patient_id)
            .ok_or_else(|| DomainError::invalid("patient_id", "format", "a patient id (UUID)")),
    );
    let source = c.take(Source::parse(&b.source).ok_or_else(|| {
        DomainError::invalid("source", "code", "one of e-rs, gp, consultant, self")
    }));
    let ubrn = match (source, b.ubrn.as_deref()) {
        (Some(Source::Ers), Some(u)) => c.take(Ubrn::parse(u)).map(Some),
        (Some(Source::Ers), None) => c.take(Err(DomainError::invalid(
            "ubrn",
            "required",
            "an e-RS referral has a UBRN",
        ))),
        (_, Some(_)) => c.take(Err(DomainError::invalid(
            "ubrn",
            "not-e-rs",
            "only e-RS referrals have a UBRN",
        ))),
        (_, None) => Some(None),
    };
    let referrer_code = c.take(code("referrer.code", &b.referrer.code));
    let referrer_org = c.take(ods("referrer.organisation", &b.referrer.organisation));
    let priority = c.take(Priority::parse(&b.priority).ok_or_else(|| {
        DomainError::invalid("priority", "code", "one of routine, urgent, two-week-wait")
    }));
    let specialty = c.take(specialty_code("specialty", &b.specialty));
    let tf = c.take(specialty_code("treatment_function", &b.treatment_function));
    let service = b.receiving_service.trim().to_string();
    if service.is_empty() || service.len() > 200 {
        c.0.push(FieldError::new(
            "receiving_service",
            "required",
            "the service referred to (1–200 characters)",
        ));
    }
    let team = c.take(code("receiving_team", &b.receiving_team));
    let clinician = match b.receiving_clinician.as_deref() {
        Some(x) => c.take(code("receiving_clinician", x)).map(Some),
        None => Some(None),
    };
    let received_on = match b.received_on.as_deref() {
        Some(d) => c.take(date("received_on", d).and_then(|d| not_future("received_on", d, today))),
        None => Some(today),
    };
    let converted = match b.ubrn_converted_on.as_deref() {
        Some(d) => c
            .take(
                date("ubrn_converted_on", d)
                    .and_then(|d| not_future("ubrn_converted_on", d, today)),
            )
            .map(Some),
        None => Some(None),
    };
    if b.attachments.len() > 50 {
        c.0.push(FieldError::new(
            "attachments",
            "too-many",
            "at most 50 attachments",
        ));
    }
    let mut attachments = Vec::new();
    for (i, a) in b.attachments.iter().enumerate() {
        let url = a.url.trim();
        let ok =
            (url.starts_with("https://") || url.starts_with("http://") || url.starts_with("urn:"))
                && url.len() <= 2048
                && !url.chars().any(char::is_whitespace);
        if !ok {
            c.0.push(FieldError::new(
                format!("attachments[{i}].url"),
                "format",
                "an http(s) URL or URN, by reference: the document stays where it is",
            ));
        }
        if a.content_type.trim().is_empty() || !a.content_type.contains('/') {
            c.0.push(FieldError::new(
                format!("attachments[{i}].content_type"),
                "format",
                "a MIME type, e.g. application/pdf",
            ));
        }
        attachments.push(serde_json::json!({
            "url": url, "content_type": a.content_type.trim(), "title": a.title.as_deref().map(str::trim),
        }));
    }
    let pathway = match (b.rtt.unwrap_or(true), b.pathway) {
        (false, None) => Some(NewPathway::None),
        (false, Some(_)) => c.take(Err(DomainError::invalid(
            "pathway",
            "not-rtt",
            "a referral outside RTT has no pathway",
        ))),
        (true, None) => Some(NewPathway::New(None)),
        (true, Some(p)) => {
            let ppid = c.take(Ppid::parse(&p.ppid, &p.issuer));
            match (
                p.kind.as_deref().unwrap_or("existing"),
                p.original_start.as_deref(),
            ) {
                ("existing", None) => ppid.map(NewPathway::Existing),
                ("new", None) => ppid.map(|x| NewPathway::New(Some(x))),
                ("transfer-in", Some(s)) => {
                    let start = c.take(
                        date("pathway.original_start", s)
                            .and_then(|d| not_future("pathway.original_start", d, today)),
                    );
                    match (ppid, start) {
                        (Some(ppid), Some(original_start)) => Some(NewPathway::TransferIn {
                            ppid,
                            original_start,
                        }),
                        _ => None,
                    }
                }
                ("transfer-in", None) => c.take(Err(DomainError::invalid(
                    "pathway.original_start",
                    "required",
                    "a transfer in keeps the original clock start",
                ))),
                _ => c.take(Err(DomainError::invalid(
                    "pathway.kind",
                    "code",
                    "existing, new, or transfer-in (with original_start only)",
                ))),
            }
        }
    };
    match (
        patient,
        source,
        ubrn,
        referrer_code,
        referrer_org,
        priority,
        specialty,
        tf,
        team,
        clinician,
        received_on,
        converted,
        pathway,
    ) {
        (
            Some(patient_id),
            Some(source),
            Some(ubrn),
            Some(referrer_code),
            Some(referrer_org),
            Some(priority),
            Some(specialty),
            Some(treatment_function),
            Some(receiving_team),
            Some(receiving_clinician),
            Some(received_on),
            Some(ubrn_converted_on),
            Some(pathway),
        ) if c.0.is_empty() => Ok(NewReferral {
            patient_id,
            source,
            ubrn,
            referrer_code,
            referrer_org,
            priority,
            specialty,
            treatment_function,
            receiving_service: service,
            receiving_team,
            receiving_clinician,
            received_on,
            ubrn_converted_on,
            attachments: serde_json::Value::Array(attachments),
            pathway,
            created_by: actor.to_string(),
        }),
        _ => Err(c.0),
    }
}
