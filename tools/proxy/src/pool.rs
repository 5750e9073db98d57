//! A route's instances and which of them are ready, from polling each one's `/readyz`.
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often each instance's readiness is asked.
const POLL: Duration = Duration::from_millis(200);

/// One instance: where its API is served and where its `/readyz` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backend {
    pub api: SocketAddr,
    pub management: SocketAddr,
}

/// The instances of one route, each marked ready or not.
pub struct Pool {
    backends: Vec<Backend>,
    ready: Vec<AtomicBool>,
    next: AtomicUsize,
}

impl Pool {
    pub fn new(backends: Vec<Backend>) -> Arc<Self> {
        let ready = backends.iter().map(|_| AtomicBool::new(false)).collect();
        Arc::new(Self {
            backends,
            ready,
            next: AtomicUsize::new(0),
        })
    }

    pub fn backend(&self, i: usize) -> Backend {
        self.backends[i % self.backends.len()]
    }

    /// The next ready instance in turn, preferring one other than `avoid` (the instance that
    /// just failed) when another is ready.
    pub fn pick(&self, avoid: Option<usize>) -> Option<usize> {
        let n = self.backends.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let ready = |i: usize| self.ready[i].load(Ordering::Relaxed);
        let candidates = (0..n).map(|k| (start + k) % n).filter(|&i| ready(i));
        let mut fallback = None;
        for i in candidates {
            if Some(i) != avoid {
                return Some(i);
            }
            fallback = Some(i);
        }
        fallback
    }

    /// Marks an instance unready at once (its connection just failed) until the next poll.
    pub fn suspect(&self, i: usize) {
        self.ready[i].store(false, Ordering::Relaxed);
    }

    pub fn ready_count(&self) -> usize {
        self.ready
            .iter()
            .filter(|r| r.load(Ordering::Relaxed))
            .count()
    }

    /// Polls every instance's `/readyz` for as long as the process runs.
    pub async fn watch(self: Arc<Self>) {
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1)
            .build_http::<Empty<Bytes>>();
        loop {
            for (i, b) in self.backends.iter().enumerate() {
                let ok = probe(&client, b.management).await;
                self.ready[i].store(ok, Ordering::Relaxed);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

async fn probe(
    client: &Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>,
    management: SocketAddr,
) -> bool {
    let Ok(uri) = format!("http://{management}/readyz").parse::<hyper::Uri>() else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), client.get(uri)).await,
        Ok(Ok(r)) if r.status() == hyper::StatusCode::OK
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: u16) -> Arc<Pool> {
        Pool::new(
            (0..n)
                .map(|k| Backend {
                    api: SocketAddr::from(([127, 0, 0, 1], 1000 + k)),
                    management: SocketAddr::from(([127, 0, 0, 1], 2000 + k)),
                })
                .collect(),
        )
    }

    #[test]
    fn only_ready_instances_are_picked_and_in_turn() {
        let p = pool(3);
        assert_eq!(p.pick(None), None, "nothing is ready before the first poll");
        p.ready[0].store(true, Ordering::Relaxed);
        p.ready[2].store(true, Ordering::Relaxed);
        let picks: Vec<_> = (0..4).filter_map(|_| p.pick(None)).collect();
        assert!(picks.iter().all(|&i| i == 0 || i == 2), "{picks:?}");
        assert!(picks.contains(&0) && picks.contains(&2), "{picks:?}");
    }

    #[test]
    fn a_failed_instance_is_avoided_while_another_is_ready() {
        let p = pool(2);
        p.ready[0].store(true, Ordering::Relaxed);
        p.ready[1].store(true, Ordering::Relaxed);
        for _ in 0..4 {
            assert_eq!(p.pick(Some(1)), Some(0));
        }
        p.suspect(0);
        assert_eq!(
            p.pick(Some(1)),
            Some(1),
            "the only ready one, though it failed"
        );
    }
}
