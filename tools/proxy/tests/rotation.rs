//! The proxy over real sockets: two small HTTP instances, each with an API and a `/readyz`
//! that the test turns on and off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tessera_proxy::{serve, Backend, Route, Stats};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Answers every request with `body` until aborted.
async fn http(listener: TcpListener, answer: Arc<dyn Fn() -> (StatusCode, String) + Send + Sync>) {
    while let Ok((stream, _)) = listener.accept().await {
        let answer = answer.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_req: Request<Incoming>| {
                let (status, body) = answer();
                async move {
                    let mut r = Response::new(Full::new(Bytes::from(body)));
                    *r.status_mut() = status;
                    Ok::<_, std::convert::Infallible>(r)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

struct Instance {
    backend: Backend,
    ready: Arc<AtomicBool>,
    api: JoinHandle<()>,
}

async fn instance(name: &'static str) -> Instance {
    let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let management = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = Backend {
        api: api.local_addr().unwrap(),
        management: management.local_addr().unwrap(),
    };
    let ready = Arc::new(AtomicBool::new(true));
    let r = ready.clone();
    tokio::spawn(http(
        management,
        Arc::new(move || match r.load(Ordering::SeqCst) {
            true => (StatusCode::OK, "ready".into()),
            false => (StatusCode::SERVICE_UNAVAILABLE, "draining".into()),
        }),
    ));
    let api = tokio::spawn(http(api, Arc::new(move || (StatusCode::OK, name.into()))));
    Instance {
        backend,
        ready,
        api,
    }
}

async fn proxy(instances: &[&Instance]) -> (SocketAddr, Arc<Stats>) {
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = free.local_addr().unwrap();
    drop(free);
    let route = Route {
        name: "svc".into(),
        listen,
        backends: instances.iter().map(|i| i.backend).collect(),
    };
    let stats = Arc::new(Stats::default());
    tokio::spawn(serve(route, stats.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await; // the first readiness poll
    (listen, stats)
}

async fn call(to: SocketAddr, method: &str) -> (StatusCode, String) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = Request::builder()
        .method(method)
        .uri(format!("http://{to}/patients"))
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn requests_alternate_over_ready_instances_and_leave_a_draining_one() {
    let (a, b) = (instance("a").await, instance("b").await);
    let (to, _) = proxy(&[&a, &b]).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        let (status, body) = call(to, "GET").await;
        assert_eq!(status, StatusCode::OK);
        seen.push(body);
    }
    assert_eq!(seen.iter().filter(|s| *s == "a").count(), 3, "{seen:?}");
    b.ready.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(600)).await;
    for _ in 0..6 {
        assert_eq!(
            call(to, "GET").await.1,
            "a",
            "a draining instance gets nothing new"
        );
    }
}

#[tokio::test]
async fn a_request_to_an_instance_that_vanished_is_sent_to_another() {
    let (a, b) = (instance("a").await, instance("b").await);
    let (to, stats) = proxy(&[&a, &b]).await;
    // A crash: the API is gone while its readiness still says yes until the next poll.
    a.api.abort();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for method in ["GET", "POST", "GET", "POST"] {
        let (status, body) = call(to, method).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "b"), "{method}");
    }
    assert!(stats.resent.load(Ordering::Relaxed) >= 1, "{stats:?}");
    assert_eq!(stats.refused.load(Ordering::Relaxed), 0);
}
