//! Who sees a patient's contact group — addresses, telecom, the registered GP — answered in
//! one place (ADR 24): the PDS sensitive (S) flag and the access decision (relationship,
//! seal, break-glass) together. A service only applies the verdict: it shows or withholds the
//! group, and keeps it (and the S-flag) as it was when a caller may not change it.
//!
//! Who the patient is — names, birth date, sex, identifiers — needs the activity only; the
//! contact group is the guarded item:
//! - a role with the registration activity (B0825) sees it as demographics, by that activity;
//! - any other role sees it as clinical data: only with a legitimate relationship or a live
//!   break-glass grant;
//! - a seal ("only Dr X and the sexual health team") limits it to the nominated; break-glass
//!   opens a sealed group, never a locked one;
//! - the S-flag withholds it from every role without the permitting activity (B0083 by
//!   default), whatever the rest says, and only such a role may lift the flag.
use crate::decision::{decide, DataClass, Outcome, Request};
use crate::view::View;
use crate::{Activity, Identity};
use chrono::{DateTime, Utc};
use tessera_nhs::OdsCode;

/// The item name of the contact group in seals.
pub const CONTACT: &str = "contact";

/// A caller, with what the access projection holds for the patients of one request.
pub struct Viewer<'a> {
    pub who: &'a Identity,
    /// The trust whose records these are.
    pub owner: &'a OdsCode,
    pub view: &'a View,
    /// The activity that permits seeing a restricted (S-flagged) patient's contact group.
    pub s_flag_activity: &'a str,
    pub now: DateTime<Utc>,
}

/// What a caller may do with one patient's contact group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactVerdict {
    /// Shown, and changeable, by this caller.
    pub shown: bool,
    /// The caller may lift the patient's S-flag.
    pub may_lift_s_flag: bool,
    /// The access decision alone (the S-flag aside), for the audit record's reason.
    pub outcome: Outcome,
}

impl ContactVerdict {
    /// The trust's own PAS feed (HL7 v2 ADT) keeps the contact group current: it may change
    /// it whatever the projection says; the S-flag still only by a role that may lift it.
    pub fn for_own_feed(who: &Identity, s_flag_activity: &str) -> Self {
        Self {
            shown: true,
            may_lift_s_flag: who.has(s_flag_activity),
            outcome: Outcome {
                permit: true,
                reason: "ok",
                alert: false,
            },
        }
    }
}

impl Viewer<'_> {
    /// The access decision on `patient`'s contact group (relationship, seal, break-glass).
    pub fn decision(&self, patient: &str) -> Outcome {
        let class = if self.who.has(Activity::AMEND_DEMOGRAPHICS) {
            DataClass::Demographics
        } else {
            DataClass::Clinical
        };
        let none = Default::default();
        let pa = self.view.patients.get(patient).unwrap_or(&none);
        decide(&Request {
            who: self.who,
            teams: &self.view.teams,
            activity: Activity::VIEW_DEMOGRAPHICS,
            owner: self.owner,
            class,
            seal: pa.seal(CONTACT),
            relationships: &pa.relationships,
            break_glass: pa.break_glass.as_ref(),
            consent: pa.consent,
            now: self.now,
        })
    }

    /// The whole verdict on `patient`'s contact group, `restricted` being its S-flag.
    pub fn contact(&self, patient: &str, restricted: bool) -> ContactVerdict {
        let outcome = self.decision(patient);
        let may_lift_s_flag = self.who.has(self.s_flag_activity);
        ContactVerdict {
            shown: outcome.permit && (!restricted || may_lift_s_flag),
            may_lift_s_flag,
            outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Relationship;
    use crate::view::PatientAccess;
    use crate::{expand_activities, SelectedRole};

    fn who(activities: &[&str]) -> Identity {
        Identity {
            user_id: "dr-a".into(),
            session_id: "s".into(),
            expires_at: i64::MAX,
            role: SelectedRole {
                person_role_id: "p".into(),
                organisation: OdsCode::parse("RXR").unwrap_or_else(|_| unreachable!()),
                job_role: "R8000".into(),
                activities: expand_activities(activities.iter().filter_map(|a| Activity::parse(a))),
                workgroups: vec![],
            },
        }
    }

    fn verdict(activities: &[&str], related: bool, restricted: bool) -> ContactVerdict {
        let now = Utc::now();
        let mut view = View::default();
        if related {
            view.patients.insert(
                "p1".into(),
                PatientAccess {
                    relationships: vec![Relationship {
                        user: Some("dr-a".into()),
                        team: None,
                        starts: now - chrono::Duration::days(1),
                        ends: None,
                    }],
                    ..Default::default()
                },
            );
        }
        let owner = OdsCode::parse("RXR").unwrap_or_else(|_| unreachable!());
        let id = who(activities);
        Viewer {
            who: &id,
            owner: &owner,
            view: &view,
            s_flag_activity: "B0083",
            now,
        }
        .contact("p1", restricted)
    }

    #[test]
    fn the_s_flag_and_the_access_decision_are_answered_together() {
        // A clerk sees an unflagged patient's contact group by activity, not a flagged one's.
        assert!(verdict(&["B0825"], false, false).shown);
        let flagged = verdict(&["B0825"], false, true);
        assert!(!flagged.shown && !flagged.may_lift_s_flag);
        // A clinician: only with a relationship; and the S-flag still needs B0083.
        assert!(!verdict(&["B0820"], false, false).shown);
        assert!(verdict(&["B0820"], true, false).shown);
        assert!(!verdict(&["B0820"], true, true).shown);
        let permitted = verdict(&["B0820", "B0083"], true, true);
        assert!(permitted.shown && permitted.may_lift_s_flag);
        // The S-flag's permitting activity alone does not replace the relationship.
        assert!(!verdict(&["B0820", "B0083"], false, true).shown);
    }

    #[test]
    fn the_trusts_own_feed_changes_the_group_but_lifts_the_flag_only_with_the_activity() {
        let feed = ContactVerdict::for_own_feed(&who(&["B0825"]), "B0083");
        assert!(feed.shown && !feed.may_lift_s_flag);
        assert!(ContactVerdict::for_own_feed(&who(&["B0825", "B0083"]), "B0083").may_lift_s_flag);
    }
}
