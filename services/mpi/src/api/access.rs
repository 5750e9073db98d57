//! The MPI applies `libs/access`'s contact-group verdict (`tessera_access::contact`, ADR 24):
//! who sees and may change a patient's addresses, telecom and registered GP, the S-flag
//! included, is decided there; here the verdict is applied to answers and audit reasons.
//!
//! A withheld group is removed from the answer exactly as the S-flag removes it; the read
//! itself is still permitted, and its audit record says what was withheld and why.
use super::auth::Authorized;
use crate::domain::Patient;
use chrono::{DateTime, Utc};
use tessera_access::contact::{ContactVerdict, Viewer};
use tessera_access::decision::Outcome;
use tessera_access::projection::View;

/// What the projection said for the patients of one request.
pub struct Access {
    pub view: View,
    pub now: DateTime<Utc>,
}

impl Access {
    /// No projection read (a patient registered in this request has no relationships, seals
    /// or grants yet).
    pub fn none() -> Self {
        Self {
            view: View::default(),
            now: Utc::now(),
        }
    }

    fn viewer<'a>(&'a self, auth: &'a Authorized) -> Viewer<'a> {
        Viewer {
            who: &auth.identity,
            owner: auth.tenant.ods(),
            view: &self.view,
            s_flag_activity: &auth.state.restricted_activity,
            now: self.now,
        }
    }

    /// The access decision on `patient`'s contact group (for audit reasons).
    pub fn contact(&self, auth: &Authorized, patient: &str) -> Outcome {
        self.viewer(auth).decision(patient)
    }

    /// The whole verdict on `p`'s contact group.
    pub fn verdict(&self, auth: &Authorized, patient: &str, restricted: bool) -> ContactVerdict {
        self.viewer(auth).contact(patient, restricted)
    }

    /// `p` as this caller may see it.
    pub fn shown(&self, auth: &Authorized, mut p: Patient) -> Patient {
        if !self
            .verdict(auth, &p.id.to_string(), p.demographics.restricted)
            .shown
        {
            p.demographics = p.demographics.redacted();
        }
        p
    }

    /// The audit reason for a read of `patients`: `ok` or `ok-break-glass` when every contact
    /// group was shown; for one patient whose group was withheld, `contact-withheld:<reason>`;
    /// for several, `contact-withheld:<count>`.
    pub fn audit_reason(&self, auth: &Authorized, patients: &[String]) -> String {
        let outcomes: Vec<Outcome> = patients.iter().map(|p| self.contact(auth, p)).collect();
        let withheld: Vec<&Outcome> = outcomes.iter().filter(|o| !o.permit).collect();
        match (withheld.as_slice(), patients.len()) {
            ([], _) if outcomes.iter().any(|o| o.alert) => "ok-break-glass".into(),
            ([], _) => "ok".into(),
            ([one], 1) => format!("contact-withheld:{}", one.reason),
            (many, _) => format!("contact-withheld:{}", many.len()),
        }
    }
}
