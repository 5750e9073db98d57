//! Who is calling, and the audit record every patient-data request leaves — the same in every
//! service. A service's state holds a [`Gate`] (its database, tenant registry, token verifier,
//! revocations, rate limiter, metrics and relay) and says so through [`HasGate`].
//!
//! [`Caller`] never fails to extract: the handler calls [`Caller::authorize`] with the action
//! and the activity it needs, so the audit record of a refusal names the action. Order of
//! checks: token → tenant → revoked session → rate limit → activity.
mod audited;
mod authorized;

pub use audited::{audited, listed, refuse, Fail, Work};
pub use authorized::{Authorized, Ending};

use crate::codes::{self, ErrorCode};
use crate::operations::{Need, Operation, Operations};
use crate::problem::{ApiError, Flavour};
use crate::RateLimiter;
use actix_web::http::Method;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use futures::future::LocalBoxFuture;
use std::sync::Arc;
use tessera_access::{AuthError, Identity, JwtVerifier, Revocations};
use tessera_audit::{AuditRecord, Outcome};
use tessera_bootstrap::{Metrics, TraceContext};
use tessera_tenancy::{TenantDb, TenantId, TenantRegistry, TenantState};
use tokio::sync::Notify;

/// What every request passes through.
#[derive(Clone)]
pub struct Gate {
    /// The service's name in audit records (`mpi`, `access`).
    pub service: &'static str,
    pub db: TenantDb,
    pub registry: Arc<TenantRegistry>,
    pub verifier: Arc<JwtVerifier>,
    pub revocations: Revocations,
    pub rate_limiter: RateLimiter,
    pub metrics: Metrics,
    /// Wakes the outbox relay after a commit.
    pub relay: Arc<Notify>,
    /// What each route needs (the service's table, set at start).
    pub operations: Arc<Operations>,
    /// A cookie that carries the bearer token on GET requests sent without one (a service's
    /// server-rendered pages); `None`: only the `Authorization` header counts.
    pub session_cookie: Option<&'static str>,
}

/// A service state that holds a [`Gate`].
pub trait HasGate: 'static {
    fn gate(&self) -> &Gate;
}

pub struct Caller<S> {
    state: web::Data<S>,
    trace: TraceContext,
    identity: Result<Identity, AuthError>,
    /// The request's method and matched route pattern, for its row of the table.
    route: (Method, Option<String>),
}

impl<S: HasGate> FromRequest for Caller<S> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<S>>().cloned();
        let route = (req.method().clone(), req.match_pattern());
        // A page's session: only on GET (a cookie never authorises a change), only where the
        // service names its cookie.
        let cookie = state
            .as_ref()
            .and_then(|s| s.gate().session_cookie)
            .filter(|_| req.method() == Method::GET)
            .and_then(|name| cookie(req, name));
        let trace = req
            .extensions()
            .get::<TraceContext>()
            .cloned()
            .unwrap_or_else(TraceContext::new_root);
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string())
            .or(cookie);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| actix_web::error::ErrorInternalServerError("state missing"))?;
            let identity = match token {
                None => Err(AuthError::MissingToken),
                Some(t) => state.gate().verifier.verify(&t).await,
            };
            Ok(Caller {
                state,
                trace,
                identity,
                route,
            })
        })
    }
}

/// The value of cookie `name` in the request's `Cookie` headers (RFC 6265 `name=value`
/// pairs separated by `;`), if sent.
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

impl<S: HasGate> Caller<S> {
    pub fn trace(&self) -> &TraceContext {
        &self.trace
    }

    /// Authorises the caller for what this route's row of the service's table needs
    /// ([`Operations`]): the action audited and the activity or job role required come from
    /// the one place the API document shows them.
    pub async fn permit(self, flavour: Flavour) -> Result<Authorized<S>, ApiError> {
        let (method, pattern) = &self.route;
        let row = pattern
            .as_deref()
            .and_then(|p| self.state.gate().operations.find(method, p))
            .cloned();
        match row {
            Some(Operation {
                action,
                need: Need::Activity(code),
                ..
            }) => self.authorize(action, &code, flavour).await,
            Some(Operation {
                action,
                need: Need::JobRole(roles),
                ..
            }) => self.authorize_job_role(action, &roles, flavour).await,
            // A gated handler on a route the table calls public, or not in the table: a
            // defect the operations test catches; never let it through.
            _ => Err(ApiError::internal(&format!(
                "no gated row in the operation table for {method} {}",
                pattern.as_deref().unwrap_or("?")
            ))
            .with_flavour(flavour)),
        }
    }

    /// The identity, for logout: no tenant or activity is needed to end one's own session.
    pub fn identity_for_logout(self) -> Result<Identity, ApiError> {
        self.identity.map_err(|e| auth_error(&e))
    }

    pub async fn authorize(
        self,
        action: &'static str,
        activity: &str,
        flavour: Flavour,
    ) -> Result<Authorized<S>, ApiError> {
        self.authorize_with(action, flavour, |who| {
            if who.has(activity) {
                Ok(())
            } else {
                Err((
                    codes::ACCESS_ACTIVITY,
                    format!("the selected role lacks activity {activity}"),
                ))
            }
        })
        .await
    }

    /// As [`Caller::authorize`], for actions that a job role permits (the privacy officer's).
    pub async fn authorize_job_role(
        self,
        action: &'static str,
        roles: &[String],
        flavour: Flavour,
    ) -> Result<Authorized<S>, ApiError> {
        self.authorize_with(action, flavour, |who| {
            if roles.iter().any(|r| r == &who.role.job_role) {
                Ok(())
            } else {
                Err((
                    codes::ACCESS_JOB_ROLE,
                    format!("this needs one of the job roles {}", roles.join(", ")),
                ))
            }
        })
        .await
    }

    async fn authorize_with(
        self,
        action: &'static str,
        flavour: Flavour,
        permits: impl FnOnce(&Identity) -> Result<(), (ErrorCode, String)>,
    ) -> Result<Authorized<S>, ApiError> {
        let identity = match &self.identity {
            Ok(i) => i.clone(),
            Err(e) => {
                let err = auth_error(e).with_flavour(flavour);
                self.audit_unattributed(action, None, &err).await?;
                return Err(err);
            }
        };
        let tenant = TenantId::from(identity.role.organisation.clone());
        let registry = &self.state.gate().registry;
        match registry.state(&tenant) {
            Some(TenantState::Ready) => {}
            state => {
                let err = match state {
                    // Not known yet, and the tenants topic not read to its end (the broker
                    // may be away): a temporary cause, never a permanent refusal (ADR 19).
                    None if !registry.caught_up() => ApiError::new(
                        codes::TENANT_NOT_YET_KNOWN,
                        "this service has not yet learnt of the selected role's organisation; retry shortly",
                    )
                    .retry_after(5),
                    None => ApiError::new(
                        codes::TENANT_UNKNOWN,
                        "the selected role's organisation is not a tenant of this platform",
                    ),
                    Some(TenantState::Suspended) => ApiError::new(
                        codes::TENANT_SUSPENDED,
                        "this trust is suspended",
                    ),
                    Some(_) => ApiError::new(
                        codes::TENANT_PROVISIONING,
                        "this trust is being provisioned; retry shortly",
                    )
                    .retry_after(5),
                }
                .with_flavour(flavour);
                self.audit_unattributed(action, Some(&identity), &err)
                    .await?;
                return Err(err);
            }
        }
        let authorized = Authorized {
            state: self.state.clone(),
            tenant,
            identity,
            trace: self.trace,
            action,
            flavour,
        };
        // Is the session revoked, and is the trust within its rate: one Redis round trip.
        let guards = authorized
            .state
            .gate()
            .rate_limiter
            .check_after::<bool>(
                authorized.tenant.as_str(),
                Revocations::revoked_cmd(&authorized.identity.session_id),
            )
            .await;
        let throttle = match guards {
            Ok((false, throttle)) => throttle,
            Ok((true, _)) => {
                let err = auth_error(&AuthError::Revoked).with_flavour(flavour);
                authorized.audit(Ending::from_error(None, &err)).await?;
                return Err(err);
            }
            // Fail closed: a session we cannot check is not trusted. The cause is temporary
            // (the store of revocations is away), so the answer says when to retry; the
            // refusal is audited like any other.
            Err(e) => {
                tracing::warn!(error = %e, "session revocations could not be read");
                let err = ApiError::new(
                    codes::DEPENDENCY_UNAVAILABLE,
                    "the session could not be checked just now; retry shortly",
                )
                .retry_after(1)
                .with_flavour(flavour);
                authorized.audit(Ending::from_error(None, &err)).await?;
                return Err(err);
            }
        };
        if let Err(t) = throttle {
            authorized
                .state
                .gate()
                .metrics
                .rate_limited
                .with_label_values(&[authorized.tenant.as_str()])
                .inc();
            return Err(ApiError::throttled(t.retry_after_seconds).with_flavour(flavour));
        }
        if let Err((code, detail)) = permits(&authorized.identity) {
            let err = ApiError::new(code, detail).with_flavour(flavour);
            authorized.audit(Ending::from_error(None, &err)).await?;
            return Err(err);
        }
        Ok(authorized)
    }

    /// A refusal that cannot go into a tenant's schema: recorded in the platform schema.
    async fn audit_unattributed(
        &self,
        action: &'static str,
        identity: Option<&Identity>,
        err: &ApiError,
    ) -> Result<(), ApiError> {
        let record = AuditRecord {
            service: self.state.gate().service,
            tenant: None,
            user_id: identity.map(|i| i.user_id.clone()).unwrap_or_default(),
            role_code: identity
                .map(|i| i.role.job_role.clone())
                .unwrap_or_default(),
            organisation: identity
                .map(|i| i.role.organisation.to_string())
                .unwrap_or_default(),
            patient_id: None,
            action,
            outcome: Outcome::Deny,
            reason: err.code.to_string(),
            status: err.status.as_u16(),
            trace: Some(self.trace.clone()),
            result_count: 0,
            projection_age_ms: None,
        };
        let txn = self
            .state
            .gate()
            .db
            .begin_platform()
            .await
            .map_err(|tessera_tenancy::DbError::Db(e)| ApiError::database(&e))?;
        tessera_audit::write(&txn, &record)
            .await
            .map_err(|e| match &e {
                tessera_audit::AuditError::Db(d) => ApiError::database(d),
                other => ApiError::internal(other),
            })?;
        txn.commit().await.map_err(|e| ApiError::database(&e))?;
        self.state.gate().relay.notify_one();
        Ok(())
    }
}

/// An authentication failure's answer: 401, or 503 with `Retry-After` when the identity
/// provider's keys could not be fetched (temporary: the token may be fine).
fn auth_error(e: &AuthError) -> ApiError {
    let code = codes::of_auth(e);
    let err = ApiError::new(code, e.to_string());
    if code.http() == 503 {
        err.retry_after(5)
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_set_that_cannot_be_fetched_is_a_temporary_refusal() {
        let e = auth_error(&AuthError::KeySet("connection refused".into()));
        assert_eq!((e.status.as_u16(), e.retry_after), (503, Some(5)));
        let e = auth_error(&AuthError::Expired);
        assert_eq!(
            (e.status.as_u16(), e.code, e.retry_after),
            (401, "auth.expired", None)
        );
    }
}
