//! HL7 v2 messages in their pipe-and-hat (ER7) encoding: parsing with the delimiters each
//! message declares in MSH-1 and MSH-2, escape sequences, typed access by position, ACK
//! building, and MLLP framing. No I/O, no panics on any input (fuzzed: `fuzz/`).

mod ack;
mod delimiters;
mod message;
pub mod mllp;

pub use ack::{Ack, AckCode, ErrorCode};
pub use message::{Delimiters, Field, Message, ParseError, Segment};
