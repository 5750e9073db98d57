//! A service's one declarative table of what each route needs: the action its audit record
//! names and the activity (national RBAC B-code) or job role the caller's selected role must
//! hold. The gate authorises every request from its route's row ([`crate::gate::Caller::permit`]),
//! and the OpenAPI document shows the same row on the operation (`x-action`, `x-activities`,
//! `x-job-roles`), so "which activity does this endpoint need?" has one answer.
//!
//! Rows are keyed by method and route pattern exactly as mounted (`/teams/{code}`), and built
//! from the service's configuration at start, since a trust may configure its B-codes.
use actix_web::http::Method;

/// What a route's caller must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// The selected role carries this activity (B-code).
    Activity(String),
    /// The selected role's job role is one of these (the privacy officer's work).
    JobRole(Vec<String>),
    /// A valid token and nothing more (ending one's own session).
    Token,
    /// Nothing: the route is public (the API document, probes, the FHIR capability statement).
    Public,
}

/// One row: a route, the action its audit record names, and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub action: &'static str,
    pub need: Need,
}

/// Every operation a service serves. Built once at start; read on every request.
#[derive(Debug, Clone, Default)]
pub struct Operations {
    rows: Vec<Operation>,
}

impl Operations {
    /// The routes every service's edge serves itself: the API document and the probes.
    pub fn new() -> Self {
        Self::default()
            .public(Method::GET, "/openapi.json")
            .public(Method::GET, "/livez")
            .public(Method::GET, "/readyz")
    }

    /// A route whose caller needs `activity`.
    pub fn activity(
        self,
        method: Method,
        path: &'static str,
        action: &'static str,
        activity: &str,
    ) -> Self {
        self.row(method, path, action, Need::Activity(activity.to_string()))
    }

    /// A route whose caller's job role must be one of `roles`.
    pub fn job_role(
        self,
        method: Method,
        path: &'static str,
        action: &'static str,
        roles: &[String],
    ) -> Self {
        self.row(method, path, action, Need::JobRole(roles.to_vec()))
    }

    /// A route any caller with a valid token may call.
    pub fn authenticated(self, method: Method, path: &'static str, action: &'static str) -> Self {
        self.row(method, path, action, Need::Token)
    }

    /// A route anyone may call.
    pub fn public(self, method: Method, path: &'static str) -> Self {
        self.row(method, path, "public", Need::Public)
    }

    fn row(mut self, method: Method, path: &'static str, action: &'static str, need: Need) -> Self {
        self.rows.push(Operation {
            method,
            path,
            action,
            need,
        });
        self
    }

    /// The row for a request's method and matched route pattern.
    pub fn find(&self, method: &Method, pattern: &str) -> Option<&Operation> {
        self.rows
            .iter()
            .find(|r| r.method == method && r.path == pattern)
    }

    pub fn rows(&self) -> &[Operation] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_found_by_method_and_pattern() {
        let ops = Operations::new()
            .activity(Method::GET, "/teams", "team.list", "B1234")
            .job_role(Method::PUT, "/teams", "team.write", &["R8003".to_string()]);
        let row = ops.find(&Method::PUT, "/teams");
        assert_eq!(row.map(|r| r.action), Some("team.write"));
        assert_eq!(
            ops.find(&Method::GET, "/teams").map(|r| r.need.clone()),
            Some(Need::Activity("B1234".into()))
        );
        assert!(ops.find(&Method::POST, "/teams").is_none());
        assert!(ops.find(&Method::GET, "/openapi.json").is_some());
    }
}
