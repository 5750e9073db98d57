//! The revoked-session list. A logout writes the session id to Redis with a lifetime equal to
//! the token's remaining life; every service checks it on every request, so a revocation
//! takes effect everywhere as soon as the write returns.
use redis::aio::ConnectionManager;

#[derive(Clone)]
pub struct Revocations {
    redis: ConnectionManager,
}

#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

fn key(session_id: &str) -> String {
    format!("tessera:revoked-session:{session_id}")
}

impl Revocations {
    pub fn new(redis: ConnectionManager) -> Self {
        Self { redis }
    }

    pub async fn revoke(&self, session_id: &str, expires_at: i64) -> Result<(), RevocationError> {
        let ttl = (expires_at - chrono::Utc::now().timestamp()).max(1) + 60;
        let mut c = self.redis.clone();
        redis::cmd("SET")
            .arg(key(session_id))
            .arg(1)
            .arg("EX")
            .arg(ttl)
            .query_async::<()>(&mut c)
            .await?;
        Ok(())
    }

    /// The command that asks whether `session_id` is revoked (answers 1 or 0), for a caller
    /// that sends it in one round trip with others (the gate, with the rate limit).
    pub fn revoked_cmd(session_id: &str) -> redis::Cmd {
        let mut c = redis::cmd("EXISTS");
        c.arg(key(session_id));
        c
    }
}
