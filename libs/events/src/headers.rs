//! CloudEvents Kafka protocol binding, binary mode: attributes travel as `ce_*` headers and the
//! payload is the Protobuf message itself.
use rdkafka::message::{Header, Headers, OwnedHeaders};

pub const CONTENT_TYPE: &str = "application/protobuf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEventHeaders {
    pub id: String,
    pub r#type: String,
    pub source: String,
    pub time: String,
    pub subject: Option<String>,
    pub traceparent: Option<String>,
}

impl CloudEventHeaders {
    pub fn to_kafka(&self) -> OwnedHeaders {
        let mut h = OwnedHeaders::new()
            .insert(Header {
                key: "ce_specversion",
                value: Some("1.0"),
            })
            .insert(Header {
                key: "ce_id",
                value: Some(self.id.as_str()),
            })
            .insert(Header {
                key: "ce_type",
                value: Some(self.r#type.as_str()),
            })
            .insert(Header {
                key: "ce_source",
                value: Some(self.source.as_str()),
            })
            .insert(Header {
                key: "ce_time",
                value: Some(self.time.as_str()),
            })
            .insert(Header {
                key: "content-type",
                value: Some(CONTENT_TYPE),
            });
        if let Some(s) = &self.subject {
            h = h.insert(Header {
                key: "ce_subject",
                value: Some(s.as_str()),
            });
        }
        if let Some(t) = &self.traceparent {
            h = h.insert(Header {
                key: "traceparent",
                value: Some(t.as_str()),
            });
        }
        h
    }

    /// Reads the attributes back; `None` when a required one is missing.
    pub fn from_kafka<H: Headers>(headers: &H) -> Option<Self> {
        let get = |name: &str| -> Option<String> {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value)
                .and_then(|v| std::str::from_utf8(v).ok())
                .map(str::to_owned)
        };
        Some(Self {
            id: get("ce_id")?,
            r#type: get("ce_type")?,
            source: get("ce_source")?,
            time: get("ce_time")?,
            subject: get("ce_subject"),
            traceparent: get("traceparent"),
        })
    }
}
