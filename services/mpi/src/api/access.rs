//! The MPI's use of the access decision (docs/adr/0015-mpi-access.md).
//!
//! Who the patient is — names, birth date, sex, NHS number, identifiers — needs the activity
//! only: registration clerks have no relationship, and search must work for them. The
//! patient's *contact group* (addresses, telecom, registered GP) is the item the MPI guards:
//! - a role with the registration activity (B0825 amend demographics) sees it by that
//!   activity, as demographics;
//! - any other role sees it as clinical data: only with a legitimate relationship (or a live
//!   break-glass grant);
//! - the patient may seal it ("only Dr X and the sexual health team"): then only the
//!   nominated see it, whatever their role; break-glass opens a sealed group, never a locked one.
//!
//! A withheld group is removed from the answer exactly as the S-flag removes it; the read
//! itself is still permitted, and its audit record says what was withheld and why.
use super::auth::Authorized;
use crate::domain::Patient;
use chrono::{DateTime, Utc};
use tessera_access::decision::{decide, DataClass, Outcome, Request};
use tessera_access::projection::View;
use tessera_access::{Activity, Identity};
use tessera_nhs::OdsCode;

/// The item name of the contact group in seals.
pub const CONTACT: &str = "contact";

/// What the projection said for the patients of one read.
pub struct Access {
    pub view: View,
    pub now: DateTime<Utc>,
}

impl Access {
    /// The decision on `patient`'s contact group.
    pub fn contact(&self, auth: &Authorized, patient: &str) -> Outcome {
        contact_decision(
            &auth.identity,
            auth.tenant.ods(),
            &self.view,
            patient,
            self.now,
        )
    }

    /// `p` as this caller may see it: the S-flag's redaction, then the contact decision.
    pub fn shown(&self, auth: &Authorized, p: Patient) -> Patient {
        let mut p = super::usecases::shown(auth, p);
        if !self.contact(auth, &p.id.to_string()).permit {
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

/// The decision on `patient`'s contact group for `who`, from the projection `view`.
pub fn contact_decision(
    who: &Identity,
    owner: &OdsCode,
    view: &View,
    patient: &str,
    now: DateTime<Utc>,
) -> Outcome {
    let class = if who.has(Activity::AMEND_DEMOGRAPHICS) {
        DataClass::Demographics
    } else {
        DataClass::Clinical
    };
    let none = Default::default();
    let pa = view.patients.get(patient).unwrap_or(&none);
    decide(&Request {
        who,
        teams: &view.teams,
        activity: Activity::VIEW_DEMOGRAPHICS,
        owner,
        class,
        seal: pa.seal(CONTACT),
        relationships: &pa.relationships,
        break_glass: pa.break_glass.as_ref(),
        consent: pa.consent,
        now,
    })
}
