//! W3C trace context, carried from HTTP requests into Kafka headers and back. Reading and
//! writing `traceparent` is OpenTelemetry's own propagator's (`TraceContextPropagator`), and
//! a hop's context is the span it exports: a request's events carry the request span's id, so
//! the consumer's span is that span's child and the trace tree connects at every hop (ADR 22).
//! With no OpenTelemetry layer installed (traces off, tests) ids are still made, by
//! OpenTelemetry's id generator, so audit records always name a trace.
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use std::collections::HashMap;
use std::fmt;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header (HTTP) and the Kafka header that carry the context.
pub const TRACEPARENT: &str = "traceparent";

#[derive(Clone, PartialEq, Eq)]
pub struct TraceContext(SpanContext);

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceContext({})", self.to_header())
    }
}

impl TraceContext {
    /// A new root context with random ids.
    pub fn new_root() -> Self {
        let ids = RandomIdGenerator::default();
        Self(SpanContext::new(
            ids.new_trace_id(),
            ids.new_span_id(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ))
    }

    /// The context a carrier (HTTP headers, Kafka headers) holds; `None` when it holds none
    /// or an invalid one (a new root is then used, as the W3C recommendation says).
    pub fn extract(carrier: &dyn Extractor) -> Option<Self> {
        if !carrier.get(TRACEPARENT).is_some_and(well_formed) {
            return None;
        }
        let cx = TraceContextPropagator::new().extract(carrier);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some(Self(sc))
    }

    /// The context of one `traceparent` value.
    pub fn parse(header: &str) -> Option<Self> {
        let carrier = HashMap::from([(TRACEPARENT.to_string(), header.trim().to_string())]);
        Self::extract(&carrier)
    }

    /// Writes the context into a carrier.
    pub fn inject(&self, carrier: &mut dyn Injector) {
        TraceContextPropagator::new().inject_context(&self.as_parent(), carrier);
    }

    /// The `traceparent` value.
    pub fn to_header(&self) -> String {
        let mut carrier = HashMap::new();
        self.inject(&mut carrier);
        carrier.remove(TRACEPARENT).unwrap_or_default()
    }

    /// A child: same trace, new span id. For hops with no span of their own exported.
    pub fn child(&self) -> Self {
        Self(SpanContext::new(
            self.0.trace_id(),
            RandomIdGenerator::default().new_span_id(),
            self.0.trace_flags(),
            true,
            TraceState::default(),
        ))
    }

    /// This context as the remote parent of a span.
    pub fn as_parent(&self) -> opentelemetry::Context {
        opentelemetry::Context::new().with_remote_span_context(self.0.clone())
    }

    /// The context of `span` as exported, when an OpenTelemetry layer records it.
    pub fn of_span(span: &tracing::Span) -> Option<Self> {
        let sc = span.context().span().span_context().clone();
        sc.is_valid().then_some(Self(sc))
    }

    /// Makes `span` the child of `parent` (when there is one) and answers `span`'s own
    /// context: the exported span's when traces are recorded, otherwise a child (or root)
    /// made here. Call it before the span is entered.
    pub fn open(span: &tracing::Span, parent: Option<&TraceContext>) -> Self {
        if let Some(p) = parent {
            // Fails only when no OpenTelemetry layer records spans; the ids made below stand.
            let _ = span.set_parent(p.as_parent());
        }
        Self::of_span(span).unwrap_or_else(|| parent.map_or_else(Self::new_root, Self::child))
    }

    pub fn trace_id(&self) -> String {
        self.0.trace_id().to_string()
    }

    pub fn span_id(&self) -> String {
        self.0.span_id().to_string()
    }

    pub fn trace_id_bytes(&self) -> [u8; 16] {
        self.0.trace_id().to_bytes()
    }

    pub fn span_id_bytes(&self) -> [u8; 8] {
        self.0.span_id().to_bytes()
    }

    pub fn sampled(&self) -> bool {
        self.0.is_sampled()
    }
}

/// The W3C shape the propagator itself does not insist on (it reads `00-abc-def-01` as ids
/// 0xabc and 0xdef): version `00` and three dash-separated lowercase hex fields of 32, 16 and
/// 2 digits. (Tessera speaks version 00; a later version is treated as no context.)
fn well_formed(header: &str) -> bool {
    let fields: Vec<&str> = header.trim().split('-').collect();
    let hex = |f: &str, n: usize| {
        f.len() == n
            && f.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    fields.len() == 4
        && fields[0] == "00"
        && hex(fields[1], 32)
        && hex(fields[2], 16)
        && hex(fields[3], 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_children_keep_the_trace() {
        let root = TraceContext::new_root();
        let parsed = TraceContext::parse(&root.to_header()).unwrap();
        assert_eq!(parsed.to_header(), root.to_header());
        let child = root.child();
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child.span_id(), root.span_id());
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for h in [
            "",
            "00-abc-def-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(TraceContext::parse(h).is_none(), "{h}");
        }
        let ok =
            TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(ok.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn without_a_recording_layer_a_span_gets_a_child_of_its_parent() {
        let parent =
            TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        let own = TraceContext::open(&tracing::info_span!("x"), Some(&parent));
        assert_eq!(own.trace_id(), parent.trace_id());
        assert_ne!(own.span_id(), parent.span_id());
        let root = TraceContext::open(&tracing::info_span!("y"), None);
        assert_ne!(root.trace_id(), parent.trace_id());
    }
}
