use crate::{expand_activities, Activity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use tessera_nhs::OdsCode;

/// One entry of `nhsid_nrbac_roles`, as CIS2 sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleClaim {
    pub person_roleid: String,
    pub org_code: String,
    /// `S8000:G8000:R8000`; the R code is the job role.
    pub role_code: String,
    #[serde(default)]
    pub role_name: String,
    #[serde(default)]
    pub activity_codes: Vec<String>,
    #[serde(default)]
    pub workgroups_codes: Vec<String>,
}

/// The claims Tessera reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    /// Session id: what a logout revokes.
    pub sid: String,
    pub jti: String,
    pub selected_roleid: String,
    pub nhsid_nrbac_roles: Vec<RoleClaim>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The role the user selected at sign-in: one organisation, one job role, its activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRole {
    pub person_role_id: String,
    pub organisation: OdsCode,
    /// R code, e.g. `R8000`.
    pub job_role: String,
    /// Granted activities with inclusions expanded.
    pub activities: BTreeSet<Activity>,
    pub workgroups: Vec<String>,
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub session_id: String,
    pub expires_at: i64,
    pub role: SelectedRole,
}

impl Identity {
    pub fn has(&self, activity: &str) -> bool {
        self.role.activities.iter().any(|a| a.as_str() == activity)
    }

    /// Exactly one role entry must match `selected_roleid`.
    /// The identity a verified token's claims name (the verifier's job, `tessera_access`).
    pub fn from_claims(c: TokenClaims) -> Result<Self, &'static str> {
        let mut matching = c
            .nhsid_nrbac_roles
            .iter()
            .filter(|r| r.person_roleid == c.selected_roleid);
        let role = matching.next().ok_or("no role matches selected_roleid")?;
        if matching.next().is_some() {
            return Err("more than one role matches selected_roleid");
        }
        let organisation =
            OdsCode::parse(&role.org_code).map_err(|_| "role org_code is not an ODS code")?;
        let job_role = role
            .role_code
            .rsplit(':')
            .next()
            .filter(|r| r.starts_with('R'))
            .ok_or("role_code has no R code")?
            .to_string();
        let activities = expand_activities(
            role.activity_codes
                .iter()
                .filter_map(|a| Activity::parse(a)),
        );
        if c.sub.trim().is_empty() || c.sid.trim().is_empty() {
            return Err("sub and sid are required");
        }
        Ok(Self {
            user_id: c.sub,
            session_id: c.sid,
            expires_at: c.exp,
            role: SelectedRole {
                person_role_id: role.person_roleid.clone(),
                organisation,
                job_role,
                activities,
                workgroups: role.workgroups_codes.clone(),
            },
        })
    }
}
