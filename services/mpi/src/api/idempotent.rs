//! `Idempotency-Key` on POST: the first request does the work; a retry with the same key and
//! body gets the first response again; the same key with another body is refused.
use super::auth::{Authorized, Ending};
use super::problem::ApiError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use std::future::Future;
use tessera_edge::{Begin, Idempotency, StoredResponse};

/// The start of a registration in either representation: authorise (the route's row of the
/// operation table), read the
/// `Idempotency-Key`, parse the body — each refusal audited once.
pub async fn begin_registration<T>(
    caller: super::auth::Caller,
    req: &HttpRequest,
    body: &[u8],
    flavour: super::problem::Flavour,
    parse: impl FnOnce(&[u8]) -> Result<T, ApiError>,
) -> Result<(Authorized, Option<String>, T), ApiError> {
    let auth = caller.permit(flavour).await?;
    let parsed = tessera_edge::key_of(req).and_then(|k| parse(body).map(|input| (k, input)));
    match parsed {
        Ok((k, input)) => Ok((auth, k, input)),
        Err(e) => super::usecases::refuse(&auth, None, e).await,
    }
}

fn to_response(r: &StoredResponse) -> HttpResponse {
    let mut b = HttpResponse::build(StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK));
    b.content_type(r.content_type.clone());
    if let Some(l) = &r.location {
        b.insert_header((header::LOCATION, l.clone()));
    }
    b.insert_header(("Idempotent-Replayed", "true"));
    b.body(r.body.clone())
}

/// Runs `work` under `key`. `work` audits itself; the other paths audit here.
pub async fn run<F, Fut>(
    auth: &Authorized,
    key: Option<String>,
    body: &[u8],
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<StoredResponse, ApiError>>,
{
    let Some(key) = key else {
        return work(None).await.map(|r| {
            let mut resp = to_response(&r);
            resp.headers_mut().remove("Idempotent-Replayed");
            resp
        });
    };
    let scope = auth.idempotency_scope();
    let hash = Idempotency::hash_body(body);
    let idem = &auth.state.idempotency;
    let begun = match idem.begin(&scope, &key, &hash).await {
        Ok(b) => b,
        // The idempotency records are away (Redis): proceeding could apply a retry twice, so
        // the write is refused for now, retryably, and audited.
        Err(e) => {
            tracing::warn!(error = %e, "idempotency records could not be read");
            let e = ApiError::new(
                tessera_edge::codes::DEPENDENCY_UNAVAILABLE,
                "this request's Idempotency-Key could not be checked just now; retry shortly",
            )
            .retry_after(1)
            .with_flavour(auth.flavour);
            auth.audit(Ending::from_error(None, &e)).await?;
            return Err(e);
        }
    };
    match begun {
        Begin::Proceed => match work(Some(key.clone())).await {
            Ok(stored) => {
                if let Err(e) = idem.complete(&scope, &key, &hash, stored.clone()).await {
                    // The database's unique key still stops a second patient.
                    tracing::warn!(error = %e, "idempotency: could not store the response");
                }
                let mut resp = to_response(&stored);
                resp.headers_mut().remove("Idempotent-Replayed");
                Ok(resp)
            }
            Err(e) => {
                let _ = idem.abandon(&scope, &key).await;
                Err(e)
            }
        },
        Begin::Replay(stored) => {
            auth.audit(Ending {
                reason: "idempotent-replay".into(),
                ..Ending::permit(None, stored.status, 1)
            })
            .await?;
            Ok(to_response(&stored))
        }
        Begin::InFlight => {
            let e = ApiError::new(
                tessera_edge::codes::IDEMPOTENCY_IN_FLIGHT,
                "a request with this Idempotency-Key is still being processed",
            )
            .with_flavour(auth.flavour);
            auth.audit(Ending::from_error(None, &e)).await?;
            Err(e)
        }
        Begin::Mismatch => {
            let e = ApiError::new(
                tessera_edge::codes::IDEMPOTENCY_MISMATCH,
                "this Idempotency-Key was used with a different request body",
            )
            .with_flavour(auth.flavour);
            auth.audit(Ending::from_error(None, &e)).await?;
            Err(e)
        }
    }
}
