//! Events, the one way services talk. This crate owns
//! - the outbox: an event row written in the same transaction as the state change it reports
//!   ([`enqueue`]);
//! - the relay that publishes outbox rows to Kafka with an idempotent producer, in order per
//!   tenant, with CloudEvents headers and the W3C `traceparent` ([`Relay`]);
//! - consumers whose handler runs in the same transaction as an inbox row, so a redelivered
//!   event changes nothing ([`run_consumer`]).
//!
//! It must never publish an event whose transaction did not commit, nor drop one that did.

mod apply;
mod consumer;
mod handled;
mod headers;
pub mod migration;
mod one;
mod outbox;
pub mod pack;
mod relay;

pub use consumer::{run_consumer, ConsumerSpec, Handler, InboundEvent};
pub use handled::HandlerError;
pub use headers::CloudEventHeaders;
pub use outbox::{enqueue, enqueue_after, Before, EventError, OutgoingEvent};
pub use relay::Relay;
