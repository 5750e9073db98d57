//! Fewer, larger messages where the volume is (ADR 19). The relay packs the outbox rows it
//! publishes together for a packed stream (the audit records: one per request) into one
//! `EventBatch` message per topic; consumers unpack it and apply each event as if it had
//! arrived alone, de-duplicating on each event's own id. Every other stream keeps one message
//! per event.
use crate::CloudEventHeaders;
use prost::Message as _;
use tessera_proto::events::v1::{Event, EventBatch};
use tessera_tenancy::TenantId;

/// The CloudEvents type of a packed message.
pub const EVENT_BATCH_TYPE: &str = "uk.nhs.tessera.EventBatch.v1";

/// The most events in one packed message.
const PACK_MAX: usize = 250;

/// One event as the relay read it from the outbox.
pub struct Outgoing<'a> {
    pub headers: CloudEventHeaders,
    pub topic: &'a str,
    pub key: &'a str,
    pub payload: &'a [u8],
}

/// One Kafka message to send.
pub struct Wire {
    pub topic: String,
    pub key: String,
    pub headers: CloudEventHeaders,
    pub payload: Vec<u8>,
}

/// Turns events, in outbox order, into messages: events on a topic of a `packed` stream
/// (`<service>.<stream>`, e.g. `audit.events`) go into batches of up to [`PACK_MAX`] per topic,
/// keyed by the tenant (so one tenant's batches keep their order on one partition); the rest
/// are one message each. Order within each topic is kept.
pub fn pack(events: Vec<Outgoing<'_>>, packed: &[String]) -> Vec<Wire> {
    let mut out: Vec<Wire> = Vec::new();
    let mut open: Vec<(String, usize, EventBatch)> = Vec::new();
    // `<prefix>.<service>.<stream>`, checked without allocating per event.
    let is_packed = |topic: &str| {
        packed.iter().any(|s| {
            topic
                .strip_suffix(s.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
        })
    };
    for e in events {
        if !is_packed(e.topic) {
            out.push(Wire {
                topic: e.topic.to_string(),
                key: e.key.to_string(),
                headers: e.headers,
                payload: e.payload.to_vec(),
            });
            continue;
        }
        let event = Event {
            id: e.headers.id,
            r#type: e.headers.r#type,
            source: e.headers.source.clone(),
            time: e.headers.time.clone(),
            subject: e.headers.subject.unwrap_or_default(),
            traceparent: e.headers.traceparent.unwrap_or_default(),
            key: e.key.to_string(),
            payload: e.payload.to_vec(),
        };
        match open
            .iter_mut()
            .find(|(t, _, b)| t == e.topic && b.events.len() < PACK_MAX)
        {
            Some((_, _, batch)) => batch.events.push(event),
            None => {
                // A placeholder keeps the batch's place among the messages.
                out.push(Wire {
                    topic: e.topic.to_string(),
                    key: TenantId::from_topic(e.topic)
                        .map_or_else(|| "platform".to_string(), |t| t.as_str().to_string()),
                    headers: CloudEventHeaders {
                        id: uuid::Uuid::now_v7().to_string(),
                        r#type: EVENT_BATCH_TYPE.into(),
                        source: e.headers.source,
                        time: e.headers.time,
                        subject: None,
                        traceparent: None,
                    },
                    payload: Vec::new(),
                });
                open.push((
                    e.topic.to_string(),
                    out.len() - 1,
                    EventBatch {
                        events: vec![event],
                    },
                ));
            }
        }
    }
    for (_, at, batch) in open {
        out[at].payload = batch.encode_to_vec();
    }
    out
}

/// The events inside a packed message's payload.
pub fn unpack(payload: &[u8]) -> Result<Vec<Event>, String> {
    EventBatch::decode(payload)
        .map(|b| b.events)
        .map_err(|e| format!("undecodable event batch: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<'a>(id: &'a str, topic: &'a str, key: &'a str) -> Outgoing<'a> {
        Outgoing {
            headers: CloudEventHeaders {
                id: id.into(),
                r#type: "t".into(),
                source: "/s".into(),
                time: "2026-01-01T00:00:00Z".into(),
                subject: Some(key.into()),
                traceparent: None,
            },
            topic,
            key,
            payload: id.as_bytes(),
        }
    }

    #[test]
    fn packed_streams_are_batched_per_topic_in_order_and_others_stay_single() {
        let a = "tessera.rxr.audit.events";
        let b = "tessera.rbt.audit.events";
        let p = "tessera.rxr.mpi.patient";
        let events = vec![
            event("1", a, "p1"),
            event("2", p, "p1"),
            event("3", b, "p2"),
            event("4", a, "p3"),
        ];
        let wire = pack(events, &["audit.events".to_string()]);
        assert_eq!(wire.len(), 3);
        assert_eq!(wire[0].topic, a);
        assert_eq!(wire[0].key, "RXR");
        assert_eq!(wire[0].headers.r#type, EVENT_BATCH_TYPE);
        let inner = unpack(&wire[0].payload).unwrap();
        let ids: Vec<&str> = inner.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["1", "4"]);
        assert_eq!(inner[1].key, "p3");
        assert_eq!(inner[1].payload, b"4");
        assert_eq!(wire[1].topic, p);
        assert_eq!(wire[1].headers.id, "2");
        assert_eq!(unpack(&wire[2].payload).unwrap()[0].id, "3");
    }

    #[test]
    fn a_batch_holds_at_most_pack_max_events() {
        let a = "tessera.rxr.audit.events";
        let ids: Vec<String> = (0..PACK_MAX + 1).map(|i| i.to_string()).collect();
        let events = ids.iter().map(|i| event(i, a, "k")).collect();
        let wire = pack(events, &["audit.events".to_string()]);
        assert_eq!(wire.len(), 2);
        assert_eq!(unpack(&wire[0].payload).unwrap().len(), PACK_MAX);
        assert_eq!(unpack(&wire[1].payload).unwrap().len(), 1);
    }
}
