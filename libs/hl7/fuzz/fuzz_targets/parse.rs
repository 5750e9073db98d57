//! Any bytes: parsing, every accessor, and an ACK for the result must not panic, and an ACK
//! must always parse back with the original's control id.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera_hl7::{Ack, ErrorCode, Message};

fuzz_target!(|data: &[u8]| {
    let parsed = Message::parse_bytes(data);
    let msg = parsed.as_ref().ok();
    if let Some(m) = msg {
        let _ = m.message_type();
        let _ = m.version();
        for seg in &m.segments {
            for n in 0..seg.len() + 1 {
                for (r, rep) in seg.repetitions(&m.delimiters, n).iter().enumerate() {
                    for c in 0..rep.len() + 1 {
                        let _ = seg.component(&m.delimiters, n, r, c);
                    }
                }
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    for ack in [
        Ack::accept(),
        Ack::error(ErrorCode::DataTypeError, text.as_ref()).at("PID^1^3"),
        Ack::reject(ErrorCode::SegmentSequence, text.as_ref()),
    ] {
        let out = ack.render(msg, "TESSERA", "RXX", "A1", "20250101");
        let back = Message::parse(&out).expect("our own ACK parses");
        assert_eq!(back.value("MSA", 1, 0, 1), ack.code.as_str());
        if let Some(m) = msg {
            assert_eq!(back.value("MSA", 2, 0, 1), m.control_id());
        }
    }
});
