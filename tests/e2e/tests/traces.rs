//! One trace from an HTTP request, through the outbox and the real broker, to the consuming
//! service's span and its audit record (ADR 22): spans recorded by an in-memory exporter, as
//! a collector would receive them from every service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use prost::Message as _;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;
use tessera_e2e::Platform;
use tessera_proto::audit::v1::AuditRecord;
use tessera_testkit as kit;
use tracing_subscriber::layer::SubscriberExt;

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test]
async fn one_trace_runs_from_a_request_through_the_broker_to_the_consumer_and_its_audit_record() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("e2e")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let p = Platform::start(1).await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let caller_span = "00f067aa0ba902b7";
    let clerk = p.token(0, "clerk-1", "R8000", &["B0825"], &[]);
    let a = p
        .call(
            Method::POST,
            format!("{}/patients", p.mpi),
            &clerk,
            Some(json!({ "names": [{ "family": "Traced", "given": ["Tia"] }],
                "birth_date": "1975-03-03", "administrative_sex": "female" })),
            Some(&format!("00-{trace_id}-{caller_span}-01")),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let patient = a.body["id"].as_str().unwrap().to_string();

    // The access service applies the MPI's event (its projection of the trust's patients)
    // and stores the MPI's audit record of the request.
    let schema = p.schema(0);
    let known = format!("SELECT count(*) AS n FROM {schema}.known_patient WHERE id = '{patient}'");
    let stored = format!(
        "SELECT count(*) AS n FROM {schema}.audit_store WHERE service = 'mpi' AND patient_id = '{patient}'"
    );
    let arrived = kit::wait_until(Duration::from_secs(30), || async {
        Platform::scalar(&p.access_db, &known).await == 1
            && Platform::scalar(&p.access_db, &stored).await >= 1
    })
    .await;
    assert!(
        arrived,
        "the event and the audit record reached the access service"
    );
    provider.force_flush().unwrap();
    let spans: Vec<SpanData> = exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .filter(|s| s.span_context.trace_id().to_string() == trace_id)
        .collect();

    // The MPI's request span: a child of the caller's span.
    let request = spans
        .iter()
        .find(|s| s.name == "http.request" && attribute(s, "route").as_deref() == Some("/patients"))
        .unwrap_or_else(|| panic!("no request span in the trace: {spans:#?}"));
    assert_eq!(
        request.parent_span_id,
        SpanId::from_hex(caller_span).unwrap()
    );
    assert!(request.parent_span_is_remote);
    // Each consumer's span: a child of the request span, across the broker.
    for topic in ["mpi.patient", "audit.events"] {
        let consumed = spans
            .iter()
            .find(|s| {
                s.name == "event.consume"
                    && attribute(s, "topic").is_some_and(|t| t.ends_with(topic))
            })
            .unwrap_or_else(|| panic!("no span consuming {topic} in the trace: {spans:#?}"));
        assert_eq!(
            consumed.parent_span_id,
            request.span_context.span_id(),
            "{topic}: the consumer's span is the request span's child"
        );
    }
    // The audit record in the access service's store names the same trace.
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let row = p
        .access_db
        .query_one(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT payload FROM {schema}.audit_store WHERE service = 'mpi' AND patient_id = '{patient}' ORDER BY seq LIMIT 1"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let payload: Vec<u8> = row.try_get("", "payload").unwrap();
    let record = AuditRecord::decode(payload.as_slice()).unwrap();
    assert_eq!(record.trace_id, trace_id);
    p.stop().await;
}
