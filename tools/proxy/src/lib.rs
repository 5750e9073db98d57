//! A round-robin HTTP proxy for the local platform: what a Kubernetes Service with an ingress
//! does in front of a Deployment's pods, so the rolling upgrade (`cargo xtask upgrade`) can run
//! two versions of a service side by side behind one address.
//!
//! - Each route listens on one address and knows its candidate instances (API address and
//!   management address). An instance is in rotation while its `/readyz` answers 200 (polled
//!   every 200 ms, as the endpoints controller follows readiness): a starting instance joins
//!   when ready, a draining one leaves when it says so.
//! - Each request goes to the next ready instance. When the instance cannot be reached, or the
//!   connection fails before an answer, the request is sent to another one — always when it
//!   was never sent (a refused connection), and otherwise only when repeating it is safe (a
//!   safe method, or a write carrying an `Idempotency-Key`, which the services replay). What
//!   no instance answers gets 503 with `Retry-After` (none ready) or 502.
//!
//! Written here rather than taken from a library: the proxies that exist (nginx, Envoy,
//! pingora) cannot be installed here or are far larger than these few rules (ADR 28).
mod forward;
mod pool;

pub use forward::{serve, Stats};
pub use pool::{Backend, Pool};

use std::net::SocketAddr;

/// One route: `name=listen=api@management[,api@management...]`.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub listen: SocketAddr,
    pub backends: Vec<Backend>,
}

impl std::str::FromStr for Route {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("route {s:?}: expected name=listen=api@management[,api@management]");
        let mut parts = s.splitn(3, '=');
        let (Some(name), Some(listen), Some(backends)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(usage());
        };
        let addr = |a: &str| a.parse::<SocketAddr>().map_err(|e| format!("{a}: {e}"));
        let backends = backends
            .split(',')
            .map(|b| {
                let (api, management) = b.split_once('@').ok_or_else(usage)?;
                Ok(Backend {
                    api: addr(api)?,
                    management: addr(management)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if name.is_empty() || backends.is_empty() {
            return Err(usage());
        }
        Ok(Route {
            name: name.to_string(),
            listen: addr(listen)?,
            backends,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn a_route_names_its_address_and_every_instance() {
        let r: Result<Route, _> =
            "mpi=127.0.0.1:18081=127.0.0.1:8081@127.0.0.1:9081,127.0.0.1:8181@127.0.0.1:9181"
                .parse();
        let r = r.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.name, "mpi");
        assert_eq!(r.listen.port(), 18081);
        assert_eq!(r.backends.len(), 2);
        assert_eq!(r.backends[1].management.port(), 9181);
    }

    #[test]
    fn a_malformed_route_is_refused_with_the_expected_shape() {
        for bad in [
            "mpi",
            "mpi=127.0.0.1:1",
            "mpi=127.0.0.1:1=127.0.0.1:2",
            "=127.0.0.1:1=127.0.0.1:2@127.0.0.1:3",
            "mpi=x=127.0.0.1:2@127.0.0.1:3",
        ] {
            assert!(bad.parse::<Route>().is_err(), "{bad}");
        }
    }
}
