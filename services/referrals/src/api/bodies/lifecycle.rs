//! What moves a referral or a pathway on: search criteria, a clock event, a transition.
use super::super::support::patient_id;
use super::referral::not_future;
use crate::app::{domain_error, invalid};
use crate::domain::{code, date, ClockFlags, EventKind, ReferralState, Ubrn};
use crate::store::{ReferralSearch, TransitionRequest};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;
use tessera_edge::problem::ApiError;
use utoipa::ToSchema;

/// Search criteria, parsed.
pub fn parse_search(q: &HashMap<String, String>, max: u64) -> Result<ReferralSearch, ApiError> {
    let mut s = ReferralSearch {
        limit: 100,
        ..Default::default()
    };
    for (k, v) in q {
        match k.as_str() {
            "patient_id" => s.patient_id = Some(patient_id(v)?),
            "ubrn" => s.ubrn = Some(Ubrn::parse(v).map_err(domain_error)?.as_str().to_string()),
            "team" => s.team = Some(code("team", v).map_err(domain_error)?),
            "state" => {
                s.state = Some(ReferralState::parse(v).ok_or_else(|| {
                    invalid("state", "code", "a referral state, e.g. AWAITING_TRIAGE")
                })?)
            }
            "_count" | "limit" => {
                s.limit = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| invalid(k, "range", &format!("1 to {max}")))?
            }
            other => {
                return Err(invalid(
                    other,
                    "unknown",
                    "search by patient_id, ubrn, team, state, _count",
                ))
            }
        }
    }
    if s.patient_id.is_none() && s.ubrn.is_none() && s.team.is_none() {
        return Err(invalid(
            "patient_id",
            "required",
            "search by patient_id, ubrn or team (the triage worklist)",
        ));
    }
    Ok(s)
}

/// A clock event as the API takes it (on a pathway, or with a transition).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockBody {
    pub event: String,
    pub date: String,
    #[serde(default)]
    pub first_appointment: Option<bool>,
    #[serde(default)]
    pub communicated: Option<bool>,
    #[serde(default)]
    pub by_patient: Option<bool>,
    #[serde(default)]
    pub original_start: Option<String>,
    #[serde(default)]
    pub non_rtt_code: Option<i16>,
}

pub fn parse_clock(b: &ClockBody, today: NaiveDate) -> Result<(EventKind, NaiveDate), ApiError> {
    let on = date("date", &b.date)
        .and_then(|d| not_future("date", d, today))
        .map_err(domain_error)?;
    let original_start = b
        .original_start
        .as_deref()
        .map(|s| date("original_start", s))
        .transpose()
        .map_err(domain_error)?;
    let k = EventKind::parse(
        &b.event,
        ClockFlags {
            first_appointment: b.first_appointment,
            communicated: b.communicated,
            by_patient: b.by_patient,
            original_start,
            non_rtt_code: b.non_rtt_code,
        },
    )
    .map_err(|e| domain_error(e.into()))?;
    Ok((k, on))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// The state to move to.
    pub to: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub clinician: Option<String>,
    #[serde(default)]
    pub clock_event: Option<ClockBody>,
    #[serde(default)]
    pub expected_version: Option<i64>,
}

pub fn parse_transition(
    b: TransitionBody,
    actor: &str,
    today: NaiveDate,
) -> Result<TransitionRequest, ApiError> {
    let to = ReferralState::parse(&b.to).ok_or_else(|| {
        invalid(
            "to",
            "code",
            "one of AWAITING_TRIAGE, ACCEPTED, REJECTED, TRIAGE_RESPONSE, BOOKED, CANCELLED, COMPLETED, DISCHARGED",
        )
    })?;
    let reason = b
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if to.needs_reason() && reason.is_none() {
        return Err(invalid(
            "reason",
            "required",
            "say why: the referrer is told",
        ));
    }
    if reason.as_ref().is_some_and(|r| r.len() > 2000) {
        return Err(invalid("reason", "too-long", "at most 2000 characters"));
    }
    if to != ReferralState::Accepted && (b.team.is_some() || b.clinician.is_some()) {
        return Err(invalid(
            "team",
            "not-accepting",
            "team and clinician are chosen on acceptance only",
        ));
    }
    let team = b
        .team
        .as_deref()
        .map(|t| code("team", t))
        .transpose()
        .map_err(domain_error)?;
    let clinician = b
        .clinician
        .as_deref()
        .map(|t| code("clinician", t))
        .transpose()
        .map_err(domain_error)?;
    let clock_event = b
        .clock_event
        .as_ref()
        .map(|c| parse_clock(c, today))
        .transpose()?;
    Ok(TransitionRequest {
        to,
        reason,
        team,
        clinician,
        clock_event,
        expected_version: b.expected_version,
        actor: actor.to_string(),
    })
}
