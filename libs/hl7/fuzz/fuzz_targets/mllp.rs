//! Any byte stream, in any split: the decoder never panics and never holds more than its
//! limit plus one read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera_hl7::mllp::{Decoder, Frame};

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new(256);
    let split = data.first().copied().unwrap_or(1).max(1) as usize;
    for chunk in data.chunks(split) {
        d.push(chunk);
        while let Some(f) = d.next_frame() {
            if let Frame::Message(m) = f {
                assert!(m.len() <= 256);
            }
        }
        assert!(d.pending() <= 256 + 3 + split);
    }
});
