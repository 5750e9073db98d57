use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Requests per second each tenant may make to this service (all replicas together).
    pub per_tenant_per_second: u32,
    /// Per-tenant budgets by ODS code, overriding the default.
    pub overrides: HashMap<String, u32>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_tenant_per_second: 2000,
            overrides: HashMap::new(),
        }
    }
}

/// One round trip: count this request in the current one-second window.
const COUNT_IN_WINDOW: &str =
    "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], 2) end return n";

/// A refusal: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_seconds: u64,
}

#[derive(Clone)]
pub struct RateLimiter {
    redis: ConnectionManager,
    service: String,
    config: RateLimitConfig,
    script: redis::Script,
    /// Per-trust budgets set on the trust's own record (the `Trust` resource's
    /// `settings.rateLimitPerSecond`, through the tenants topic); they win over `config`.
    registry: Option<std::sync::Arc<tessera_tenancy::TenantRegistry>>,
}

impl RateLimiter {
    pub fn new(redis: ConnectionManager, service: &str, config: RateLimitConfig) -> Self {
        let script = redis::Script::new(COUNT_IN_WINDOW);
        Self {
            redis,
            service: service.to_string(),
            config,
            script,
            registry: None,
        }
    }

    /// Reads each trust's own budget, where its record sets one, from `registry`.
    pub fn with_registry(
        mut self,
        registry: std::sync::Arc<tessera_tenancy::TenantRegistry>,
    ) -> Self {
        self.registry = Some(registry);
        self
    }

    fn budget(&self, tenant: &str) -> u32 {
        let own = self.registry.as_ref().and_then(|r| {
            tessera_tenancy::TenantId::parse(tenant)
                .ok()
                .and_then(|t| r.rate_limit(&t))
        });
        own.or_else(|| self.config.overrides.get(tenant).copied())
            .unwrap_or(self.config.per_tenant_per_second)
    }

    fn key(&self, tenant: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!("tessera:rl:{}:{}:{}", self.service, tenant, now)
    }

    fn verdict(&self, tenant: &str, n: u64) -> Result<(), Throttled> {
        if n > u64::from(self.budget(tenant)) {
            Err(Throttled {
                retry_after_seconds: 1,
            })
        } else {
            Ok(())
        }
    }

    /// Counts a request for `tenant`. If Redis is unreachable the request is allowed: the
    /// limiter protects fairness, and must not turn a cache outage into a clinical outage.
    pub async fn check(&self, tenant: &str) -> Result<(), Throttled> {
        let mut c = self.redis.clone();
        match self
            .script
            .key(self.key(tenant))
            .invoke_async::<u64>(&mut c)
            .await
        {
            Ok(n) => self.verdict(tenant, n),
            Err(_) => Ok(()),
        }
    }

    /// `first`'s answer and [`check`](Self::check)'s, in one round trip (a pipeline): the
    /// gate asks whether the session is revoked and counts the request together (ADR 29).
    /// An unreachable Redis is an error here, for `first`'s sake; the caller decides.
    pub async fn check_after<T: redis::FromRedisValue>(
        &self,
        tenant: &str,
        first: redis::Cmd,
    ) -> Result<(T, Result<(), Throttled>), redis::RedisError> {
        let mut pipe = redis::pipe();
        pipe.add_command(first);
        // EVAL, not EVALSHA: a pipeline cannot load a script the server has forgotten.
        pipe.cmd("EVAL")
            .arg(COUNT_IN_WINDOW)
            .arg(1)
            .arg(self.key(tenant));
        let mut c = self.redis.clone();
        let (answer, n): (T, u64) = pipe.query_async(&mut c).await?;
        Ok((answer, self.verdict(tenant, n)))
    }
}
