//! The MPI's use of the shared matcher: a patient's demographics as a `Person`, and the
//! scored, explained candidates for `$match` and registration.
use crate::domain::{Demographics, Patient};
use serde::Serialize;
use tessera_matching::{compare, BirthDate, Decision, Explanation, Model, Person, PersonInput};

/// What a caller offers to match against: all optional, unvalidated beyond parsing.
#[derive(Debug, Default, Clone)]
pub struct Probe {
    pub given: Option<String>,
    pub family: Option<String>,
    pub birth_date: Option<chrono::NaiveDate>,
    pub sex: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub nhs_number: Option<String>,
}

impl Probe {
    pub fn person(&self) -> Person {
        Person::new(PersonInput {
            given: self.given.as_deref(),
            family: self.family.as_deref(),
            birth_date: self.birth_date.map(BirthDate::from),
            sex: self.sex.as_deref(),
            address: self.address.as_deref(),
            postcode: self.postcode.as_deref(),
            national_id: self.nhs_number.as_deref(),
        })
    }

    pub fn from_demographics(d: &Demographics) -> Self {
        let name = d.primary_name();
        let home = d.current_address();
        Self {
            given: name.and_then(|n| n.given.first().cloned()),
            family: name.map(|n| n.family.clone()),
            birth_date: Some(d.birth_date),
            sex: Some(d.administrative_sex.as_str().to_string())
                .filter(|s| s != "unknown" && s != "other"),
            address: home.map(|a| {
                let mut parts = a.lines.clone();
                parts.extend(a.city.clone());
                parts.join(" ")
            }),
            postcode: home
                .and_then(|a| a.postcode.as_ref())
                .map(|p| p.as_str().to_string()),
            nhs_number: d.nhs_number.as_ref().map(|n| n.as_str().to_string()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.family.is_none() && self.nhs_number.is_none() && self.birth_date.is_none()
    }
}

/// One candidate with its score and why.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    #[serde(skip)]
    pub patient: Patient,
    pub score: f64,
    /// 0–1, for FHIR `search.score`: logistic in the score, 0.5 at the review threshold.
    pub probability: f64,
    pub decision: &'static str,
    /// FHIR match-grade: certain, probable, possible.
    pub grade: &'static str,
    pub explanation: Explanation,
}

/// Scores `candidates` against `probe`, best first, dropping non-matches.
pub fn rank(
    model: &Model,
    probe: &Probe,
    candidates: Vec<Patient>,
    limit: usize,
) -> Vec<Candidate> {
    let me = probe.person();
    let mut out: Vec<Candidate> = candidates
        .into_iter()
        .filter_map(|patient| {
            let other = Probe::from_demographics(&patient.demographics).person();
            let explanation = model.explain(&me, &other);
            if explanation.decision == Decision::NoMatch {
                return None;
            }
            let national_same = compare(&me, &other).0[6] == 0;
            let grade = match explanation.decision {
                Decision::Match if national_same => "certain",
                Decision::Match => "probable",
                _ => "possible",
            };
            Some(Candidate {
                score: (explanation.score * 100.0).round() / 100.0,
                probability: 1.0 / (1.0 + (-(explanation.score - model.thresholds.review)).exp2()),
                decision: explanation.decision.as_str(),
                grade,
                explanation,
                patient,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out.truncate(limit);
    out
}
