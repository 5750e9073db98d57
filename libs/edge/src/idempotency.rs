use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `Idempotency-Key` request header.
pub const HEADER: &str = "Idempotency-Key";

/// A request's `Idempotency-Key`, if it sent one: 1 to 200 visible ASCII characters, or a
/// 400 that says so.
pub fn key_of(req: &actix_web::HttpRequest) -> Result<Option<String>, crate::problem::ApiError> {
    use crate::problem::ApiError;
    match req.headers().get(HEADER) {
        None => Ok(None),
        Some(v) => {
            let k = v
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?
                .trim();
            if k.is_empty() || k.len() > 200 {
                return Err(ApiError::bad_request(
                    "Idempotency-Key must be 1 to 200 characters",
                ));
            }
            Ok(Some(k.to_string()))
        }
    }
}

/// A response as it was first sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Entry {
    InFlight {
        request_hash: String,
    },
    Done {
        request_hash: String,
        response: StoredResponse,
    },
}

/// What to do with a request that carries an `Idempotency-Key`.
#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// First time: do the work, then call `complete` (or `abandon` on a server error).
    Proceed,
    /// Seen and finished: send this again.
    Replay(StoredResponse),
    /// The first request with this key is still running.
    InFlight,
    /// The key was used with a different request body.
    Mismatch,
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("stored entry is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct Idempotency {
    redis: ConnectionManager,
    /// How long a finished response is kept for replay.
    ttl_seconds: u64,
}

impl Idempotency {
    pub fn new(redis: ConnectionManager, ttl_seconds: u64) -> Self {
        Self { redis, ttl_seconds }
    }

    /// `scope` separates tenants and users: the same key from two callers is two keys.
    fn key(scope: &str, key: &str) -> String {
        let digest = hex::encode(Sha256::digest(format!("{scope}\u{0}{key}")));
        format!("tessera:idem:{digest}")
    }

    pub fn hash_body(body: &[u8]) -> String {
        hex::encode(Sha256::digest(body))
    }

    pub async fn begin(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Begin, IdempotencyError> {
        let k = Self::key(scope, key);
        let marker = serde_json::to_string(&Entry::InFlight {
            request_hash: request_hash.into(),
        })?;
        let mut c = self.redis.clone();
        // The in-flight marker expires, so a process that died mid-request does not block the
        // key for ever; the service's own unique constraint is the durable backstop.
        let set: Option<String> = redis::cmd("SET")
            .arg(&k)
            .arg(&marker)
            .arg("NX")
            .arg("EX")
            .arg(120)
            .query_async(&mut c)
            .await?;
        if set.is_some() {
            return Ok(Begin::Proceed);
        }
        let existing: Option<String> = redis::cmd("GET").arg(&k).query_async(&mut c).await?;
        let Some(existing) = existing else {
            // Expired between the two calls: try once more.
            return Box::pin(self.begin(scope, key, request_hash)).await;
        };
        Ok(match serde_json::from_str::<Entry>(&existing)? {
            Entry::InFlight { request_hash: h }
            | Entry::Done {
                request_hash: h, ..
            } if h != request_hash => Begin::Mismatch,
            Entry::InFlight { .. } => Begin::InFlight,
            Entry::Done { response, .. } => Begin::Replay(response),
        })
    }

    pub async fn complete(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        response: StoredResponse,
    ) -> Result<(), IdempotencyError> {
        let v = serde_json::to_string(&Entry::Done {
            request_hash: request_hash.into(),
            response,
        })?;
        let mut c = self.redis.clone();
        redis::cmd("SET")
            .arg(Self::key(scope, key))
            .arg(v)
            .arg("EX")
            .arg(self.ttl_seconds)
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }

    /// Forget an attempt that failed on our side, so the client's retry can proceed.
    pub async fn abandon(&self, scope: &str, key: &str) -> Result<(), IdempotencyError> {
        let mut c = self.redis.clone();
        redis::cmd("DEL")
            .arg(Self::key(scope, key))
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn redis() -> ConnectionManager {
        let url =
            std::env::var("TESSERA_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        ConnectionManager::new(redis::Client::open(url).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn first_proceeds_then_in_flight_then_replay_and_mismatch() {
        let idem = Idempotency::new(redis().await, 60);
        let scope = format!("test:{}", uuid::Uuid::new_v4());
        let h = Idempotency::hash_body(b"{\"a\":1}");
        assert_eq!(idem.begin(&scope, "k1", &h).await.unwrap(), Begin::Proceed);
        assert_eq!(idem.begin(&scope, "k1", &h).await.unwrap(), Begin::InFlight);
        let resp = StoredResponse {
            status: 201,
            content_type: "application/json".into(),
            location: Some("/x/1".into()),
            body: "{}".into(),
        };
        idem.complete(&scope, "k1", &h, resp.clone()).await.unwrap();
        assert_eq!(
            idem.begin(&scope, "k1", &h).await.unwrap(),
            Begin::Replay(resp)
        );
        let other = Idempotency::hash_body(b"{\"a\":2}");
        assert_eq!(
            idem.begin(&scope, "k1", &other).await.unwrap(),
            Begin::Mismatch
        );
        // Another scope (tenant or user) does not see it.
        assert_eq!(
            idem.begin(&format!("{scope}-b"), "k1", &h).await.unwrap(),
            Begin::Proceed
        );
    }

    #[tokio::test]
    async fn an_abandoned_attempt_can_be_retried() {
        let idem = Idempotency::new(redis().await, 60);
        let scope = format!("test:{}", uuid::Uuid::new_v4());
        assert_eq!(idem.begin(&scope, "k", "h").await.unwrap(), Begin::Proceed);
        idem.abandon(&scope, "k").await.unwrap();
        assert_eq!(idem.begin(&scope, "k", "h").await.unwrap(), Begin::Proceed);
    }

    #[tokio::test]
    async fn rate_limit_is_per_tenant() {
        use crate::{RateLimitConfig, RateLimiter};
        let svc = format!("test-{}", uuid::Uuid::new_v4());
        let mut cfg = RateLimitConfig {
            per_tenant_per_second: 1000,
            ..Default::default()
        };
        cfg.overrides.insert("NOISY".into(), 5);
        let rl = RateLimiter::new(redis().await, &svc, cfg);
        let mut refused = 0;
        for _ in 0..20 {
            if rl.check("NOISY").await.is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 10, "refused {refused}");
        assert!(rl.check("QUIET").await.is_ok());
    }

    /// The gate's one round trip: the revocation answer and the rate verdict both arrive,
    /// and each is the one for its own question.
    #[tokio::test]
    async fn a_revocation_and_the_rate_are_asked_together() {
        use crate::{RateLimitConfig, RateLimiter};
        use tessera_access::Revocations;
        let redis = redis().await;
        let svc = format!("test-{}", uuid::Uuid::new_v4());
        let mut cfg = RateLimitConfig::default();
        cfg.overrides.insert("NOISY".into(), 3);
        let rl = RateLimiter::new(redis.clone(), &svc, cfg);
        let revoked = format!("s-{}", uuid::Uuid::new_v4());
        let live = format!("s-{}", uuid::Uuid::new_v4());
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let expires = i64::try_from(now.unwrap().as_secs()).unwrap() + 60;
        Revocations::new(redis)
            .revoke(&revoked, expires)
            .await
            .unwrap();
        let (r, t) = rl
            .check_after::<bool>("QUIET", Revocations::revoked_cmd(&revoked))
            .await
            .unwrap();
        assert!(r && t.is_ok());
        let mut refused = 0;
        for _ in 0..10 {
            let (r, t) = rl
                .check_after::<bool>("NOISY", Revocations::revoked_cmd(&live))
                .await
                .unwrap();
            assert!(!r);
            refused += usize::from(t.is_err());
        }
        assert!(refused >= 5, "refused {refused}");
    }
}
