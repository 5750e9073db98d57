//! Each tenant's matching model, cached briefly: read on the matching path, so it must not
//! cost a query per request; a change on another replica is seen within the TTL.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_matching::Model;
use tokio::sync::RwLock;

pub struct ModelCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Arc<Model>)>>,
}

impl ModelCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub async fn get(&self, tenant: &str) -> Option<Arc<Model>> {
        let entries = self.entries.read().await;
        entries
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, m)| m.clone())
    }

    pub async fn put(&self, tenant: &str, model: Arc<Model>) {
        self.entries
            .write()
            .await
            .insert(tenant.to_string(), (Instant::now(), model));
    }
}
