//! Each tenant's matching model, cached briefly: read on the matching path, so it must not
//! cost a query per request; a change on another replica is seen within the TTL.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_matching::Model;
use tokio::sync::RwLock;

/// What a trust's matching uses: its model and whether `match` pairs merge on registration.
#[derive(Debug, Clone, Default)]
pub struct Matching {
    pub model: Model,
    pub auto_link: bool,
}

impl std::ops::Deref for Matching {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

pub struct ModelCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Arc<Matching>)>>,
}

impl ModelCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub async fn get(&self, tenant: &str) -> Option<Arc<Matching>> {
        let entries = self.entries.read().await;
        entries
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, m)| m.clone())
    }

    pub async fn put(&self, tenant: &str, model: Arc<Matching>) {
        self.entries
            .write()
            .await
            .insert(tenant.to_string(), (Instant::now(), model));
    }
}
