//! The access decision every service makes locally (issue 4's enforcement, first part): no
//! I/O, no clock of its own. Order: activity → trust (another trust needs the patient's
//! consent to share) → legitimate relationship (clinical data only) → seal. Break-glass, for a
//! role with the override activity, stands in for a missing relationship and opens a sealed
//! (not a locked) item, and always raises an alert. Every outcome names its reason, for the
//! audit record.
use crate::Identity;
use chrono::{DateTime, Utc};
use tessera_nhs::OdsCode;

/// What is being asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataClass {
    /// Who the patient is: registration clerks have no relationship, so activities suffice.
    Demographics,
    /// Anything clinical: needs a legitimate relationship.
    Clinical,
}

/// An item's seal: nobody outside the nominated users and teams may see it; break-glass opens
/// a `Sealed` item (with an alert), never a `Locked` one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seal {
    #[default]
    None,
    Sealed(Nominated),
    Locked(Nominated),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nominated {
    pub users: Vec<String>,
    pub teams: Vec<String>,
}

/// A legitimate relationship between a user or a team and the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub user: Option<String>,
    pub team: Option<String>,
    pub starts: DateTime<Utc>,
    /// `None`: open-ended (until its end rule fires).
    pub ends: Option<DateTime<Utc>>,
}

impl Relationship {
    fn holds_for(&self, who: &Identity, teams: &[String]) -> bool {
        self.user.as_deref() == Some(who.user_id.as_str())
            || self
                .team
                .as_ref()
                .is_some_and(|t| who.role.workgroups.contains(t) || teams.contains(t))
    }

    fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.starts <= now && self.ends.is_none_or(|e| now < e)
    }
}

/// A break-glass grant: one user, one patient, time-boxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlass {
    pub user: String,
    pub expires: DateTime<Utc>,
}

/// The patient's directive on another trust seeing this trust's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SharingConsent {
    /// No directive: other trusts may not see it.
    #[default]
    None,
    Permitted,
    Forbidden,
}

/// Everything one decision looks at, as the local projection holds it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub who: &'a Identity,
    /// Teams the access service lists the caller in, beside the token's workgroups.
    pub teams: &'a [String],
    /// The activity the operation needs (e.g. B0820).
    pub activity: &'a str,
    /// The trust whose record this is.
    pub owner: &'a OdsCode,
    pub class: DataClass,
    pub seal: &'a Seal,
    /// The patient's relationships (with anyone; the decision picks the caller's).
    pub relationships: &'a [Relationship],
    /// The caller's break-glass grant for this patient, if they claimed one.
    pub break_glass: Option<&'a BreakGlass>,
    pub consent: SharingConsent,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub permit: bool,
    /// Stable code for the audit record: `ok`, `ok-break-glass`, `access.activity`,
    /// `access.consent`, `access.relationship`, `access.relationship-expired`, `access.sealed`,
    /// `access.locked`.
    pub reason: &'static str,
    /// The permit used break-glass: raise an alert for the privacy officer.
    pub alert: bool,
}

impl Outcome {
    fn deny(reason: &'static str) -> Self {
        Self {
            permit: false,
            reason,
            alert: false,
        }
    }
}

/// The activity that allows break-glass (B0083: gain temporary access to patient sealed data
/// without patient permission).
pub const OVERRIDE_ACTIVITY: &str = crate::Activity::SEALED_OVERRIDE;

pub fn decide(r: &Request<'_>) -> Outcome {
    let who = r.who;
    if !who.has(r.activity) {
        return Outcome::deny("access.activity");
    }
    if &who.role.organisation != r.owner && r.consent != SharingConsent::Permitted {
        return Outcome::deny("access.consent");
    }
    let glass = r
        .break_glass
        .is_some_and(|g| g.user == who.user_id && r.now < g.expires && who.has(OVERRIDE_ACTIVITY));
    let mut used_glass = false;
    if r.class == DataClass::Clinical {
        let mine: Vec<&Relationship> = r
            .relationships
            .iter()
            .filter(|rel| rel.holds_for(who, r.teams))
            .collect();
        if !mine.iter().any(|rel| rel.active_at(r.now)) {
            if !glass {
                return Outcome::deny(if mine.is_empty() {
                    "access.relationship"
                } else {
                    "access.relationship-expired"
                });
            }
            used_glass = true;
        }
    }
    let nominated = |n: &Nominated| {
        n.users.contains(&who.user_id)
            || n.teams
                .iter()
                .any(|t| who.role.workgroups.contains(t) || r.teams.contains(t))
    };
    match r.seal {
        Seal::None => {}
        Seal::Sealed(n) if nominated(n) => {}
        Seal::Sealed(_) if glass => used_glass = true,
        Seal::Sealed(_) => return Outcome::deny("access.sealed"),
        Seal::Locked(n) if nominated(n) => {}
        Seal::Locked(_) => return Outcome::deny("access.locked"),
    }
    Outcome {
        permit: true,
        reason: if used_glass { "ok-break-glass" } else { "ok" },
        alert: used_glass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{expand_activities, Activity, SelectedRole};
    use chrono::Duration;

    fn identity(org: &str, activities: &[&str]) -> Identity {
        Identity {
            user_id: "dr-a".into(),
            session_id: "s".into(),
            expires_at: i64::MAX,
            role: SelectedRole {
                person_role_id: "p".into(),
                organisation: OdsCode::parse(org).unwrap(),
                job_role: "R8000".into(),
                activities: expand_activities(activities.iter().filter_map(|a| Activity::parse(a))),
                workgroups: vec!["cardiology".into()],
            },
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Rel {
        Present,
        Absent,
        Expired,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Item {
        Unsealed,
        Sealed,
        Locked,
    }

    /// The authorisation matrix, as the rules say it in words, one cell at a time:
    /// role with/without the activity × relationship present/absent/expired × item
    /// unsealed/sealed/locked × break-glass or not; each also from the same and from another
    /// trust (the other with the patient's consent to share, so the same answer). Clinical
    /// data; the caller is not nominated.
    fn expected(activity: bool, rel: Rel, item: Item, glass: bool) -> &'static str {
        if !activity {
            return "access.activity";
        }
        // Clinical data needs a live relationship, unless break-glass stands in for it.
        let related = rel == Rel::Present;
        if !related && !glass {
            return match rel {
                Rel::Expired => "access.relationship-expired",
                _ => "access.relationship",
            };
        }
        // Nobody here is nominated: a locked item stays shut; break-glass opens a sealed one.
        match item {
            Item::Locked => "access.locked",
            Item::Sealed if glass => "ok-break-glass",
            Item::Sealed => "access.sealed",
            Item::Unsealed if related => "ok",
            Item::Unsealed => "ok-break-glass",
        }
    }

    #[test]
    fn every_cell_of_the_authorisation_matrix() {
        let now = Utc::now();
        let owner = OdsCode::parse("RXR").unwrap();
        let someone_else = Nominated {
            users: vec!["dr-b".into()],
            teams: vec!["sexual-health".into()],
        };
        let mut cells = 0;
        for activity in [true, false] {
            for rel in [Rel::Present, Rel::Absent, Rel::Expired] {
                for item in [Item::Unsealed, Item::Sealed, Item::Locked] {
                    for glass in [true, false] {
                        for same_trust in [true, false] {
                            let acts: Vec<&str> = if activity {
                                vec!["B0820", OVERRIDE_ACTIVITY]
                            } else {
                                vec![OVERRIDE_ACTIVITY]
                            };
                            let who = identity(if same_trust { "RXR" } else { "RBT" }, &acts);
                            let relationships = match rel {
                                Rel::Present => vec![Relationship {
                                    user: None,
                                    team: Some("cardiology".into()),
                                    starts: now - Duration::days(3),
                                    ends: None,
                                }],
                                Rel::Absent => vec![Relationship {
                                    user: Some("dr-b".into()),
                                    team: None,
                                    starts: now - Duration::days(3),
                                    ends: None,
                                }],
                                Rel::Expired => vec![Relationship {
                                    user: Some("dr-a".into()),
                                    team: None,
                                    starts: now - Duration::days(30),
                                    ends: Some(now - Duration::days(1)),
                                }],
                            };
                            let seal = match item {
                                Item::Unsealed => Seal::None,
                                Item::Sealed => Seal::Sealed(someone_else.clone()),
                                Item::Locked => Seal::Locked(someone_else.clone()),
                            };
                            let grant = BreakGlass {
                                user: "dr-a".into(),
                                expires: now + Duration::hours(1),
                            };
                            let out = decide(&Request {
                                who: &who,
                                teams: &[],
                                activity: "B0820",
                                owner: &owner,
                                class: DataClass::Clinical,
                                seal: &seal,
                                relationships: &relationships,
                                break_glass: glass.then_some(&grant),
                                consent: SharingConsent::Permitted,
                                now,
                            });
                            let want = expected(activity, rel, item, glass);
                            assert_eq!(out.reason, want, "activity {activity} {rel:?} {item:?} glass {glass} same trust {same_trust}");
                            assert_eq!(out.permit, want.starts_with("ok"));
                            assert_eq!(out.alert, want == "ok-break-glass");
                            cells += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(cells, 72);
    }

    #[test]
    fn another_trust_needs_the_patients_consent_and_break_glass_expires() {
        let now = Utc::now();
        let owner = OdsCode::parse("RXR").unwrap();
        let who = identity("RBT", &["B0820", OVERRIDE_ACTIVITY]);
        let rels = [Relationship {
            user: Some("dr-a".into()),
            team: None,
            starts: now - Duration::days(1),
            ends: None,
        }];
        let mut r = Request {
            who: &who,
            teams: &[],
            activity: "B0820",
            owner: &owner,
            class: DataClass::Clinical,
            seal: &Seal::None,
            relationships: &rels,
            break_glass: None,
            consent: SharingConsent::None,
            now,
        };
        assert_eq!(decide(&r).reason, "access.consent");
        r.consent = SharingConsent::Forbidden;
        assert_eq!(decide(&r).reason, "access.consent");
        r.consent = SharingConsent::Permitted;
        assert_eq!(decide(&r).reason, "ok");
        // Demographics need no relationship.
        let none: [Relationship; 0] = [];
        r.relationships = &none;
        r.class = DataClass::Demographics;
        assert_eq!(decide(&r).reason, "ok");
        // An expired grant, or one without the override activity, is no grant.
        r.class = DataClass::Clinical;
        let old = BreakGlass {
            user: "dr-a".into(),
            expires: now - Duration::seconds(1),
        };
        r.break_glass = Some(&old);
        assert_eq!(decide(&r).reason, "access.relationship");
        let fresh = BreakGlass {
            user: "dr-a".into(),
            expires: now + Duration::minutes(5),
        };
        let plain = identity("RXR", &["B0820"]);
        r.who = &plain;
        r.owner = &owner;
        r.break_glass = Some(&fresh);
        assert_eq!(decide(&r).reason, "access.relationship");
    }
}
