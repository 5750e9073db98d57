//! Minimal Lower Layer Protocol framing: `<VT> message <FS><CR>`.
pub const START: u8 = 0x0b;
pub const END: u8 = 0x1c;
pub const CR: u8 = 0x0d;

/// Frames `message` for the wire.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message);
    out.push(END);
    out.push(CR);
    out
}

/// What the decoder found in the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole message (without its framing bytes).
    Message(Vec<u8>),
    /// Bytes outside any frame, or a frame over the size limit: skipped, with how many.
    Garbage(usize),
}

/// Reassembles frames from a byte stream, with a size limit so a peer cannot make us
/// buffer without end.
#[derive(Debug)]
pub struct Decoder {
    buffer: Vec<u8>,
    max: usize,
}

impl Decoder {
    pub fn new(max_message_bytes: usize) -> Self {
        Self {
            buffer: Vec::new(),
            max: max_message_bytes,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next frame, if the buffer holds one; `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Frame> {
        if self.buffer.is_empty() {
            return None;
        }
        if self.buffer[0] != START {
            let skip = self
                .buffer
                .iter()
                .position(|b| *b == START)
                .unwrap_or(self.buffer.len());
            self.buffer.drain(..skip);
            return Some(Frame::Garbage(skip));
        }
        // A new start byte before this frame's end: the frame was cut off; drop it.
        let restart = self.buffer[1..]
            .iter()
            .position(|b| *b == START)
            .map(|p| p + 1);
        let end = self
            .buffer
            .windows(2)
            .position(|w| w[0] == END && w[1] == CR);
        if let Some(r) = restart {
            if end.is_none_or(|e| r < e) {
                self.buffer.drain(..r);
                return Some(Frame::Garbage(r));
            }
        }
        match end {
            Some(end) => {
                let message = self.buffer[1..end].to_vec();
                self.buffer.drain(..end + 2);
                if message.len() > self.max {
                    return Some(Frame::Garbage(message.len()));
                }
                Some(Frame::Message(message))
            }
            None if self.buffer.len() > self.max + 3 => {
                // Over the limit with no end in sight: drop to the next start byte.
                let skip = self.buffer[1..]
                    .iter()
                    .position(|b| *b == START)
                    .map(|p| p + 1)
                    .unwrap_or(self.buffer.len());
                self.buffer.drain(..skip);
                Some(Frame::Garbage(skip))
            }
            None => None,
        }
    }

    /// Bytes held waiting for the end of a frame.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_reads_and_garbage_between_them() {
        let mut d = Decoder::new(1024);
        let mut wire = b"junk".to_vec();
        wire.extend(frame(b"MSH|one"));
        wire.extend(frame(b"MSH|two"));
        let (a, b) = wire.split_at(9);
        d.push(a);
        assert_eq!(d.next_frame(), Some(Frame::Garbage(4)));
        assert_eq!(d.next_frame(), None);
        d.push(b);
        assert_eq!(d.next_frame(), Some(Frame::Message(b"MSH|one".to_vec())));
        assert_eq!(d.next_frame(), Some(Frame::Message(b"MSH|two".to_vec())));
        assert_eq!(d.next_frame(), None);
    }

    #[test]
    fn a_frame_cut_off_by_the_next_start_is_dropped_and_the_next_one_kept() {
        let mut d = Decoder::new(1024);
        d.push(&[START]);
        d.push(b"MSH|cut");
        d.push(&frame(b"MSH|whole"));
        assert_eq!(d.next_frame(), Some(Frame::Garbage(8)));
        assert_eq!(d.next_frame(), Some(Frame::Message(b"MSH|whole".to_vec())));
    }

    proptest::proptest! {
        /// Any bytes, in any split: no panic, no frame over the limit, bounded buffering, and
        /// a well-formed frame after the junk still comes through.
        #[test]
        fn any_stream_is_decoded_within_bounds(
            junk in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            split in 1usize..64,
        ) {
            let mut d = Decoder::new(256);
            let mut wire = junk.clone();
            wire.extend(frame(b"MSH|^~\\&|END"));
            let mut last = None;
            for chunk in wire.chunks(split) {
                d.push(chunk);
                while let Some(f) = d.next_frame() {
                    if let Frame::Message(m) = &f {
                        proptest::prop_assert!(m.len() <= 256);
                    }
                    last = Some(f);
                }
                proptest::prop_assert!(d.pending() <= 256 + 3 + split);
            }
            proptest::prop_assert_eq!(last, Some(Frame::Message(b"MSH|^~\\&|END".to_vec())));
        }
    }

    #[test]
    fn an_endless_frame_is_dropped_at_the_limit() {
        let mut d = Decoder::new(8);
        d.push(&[START]);
        d.push(&[b'x'; 20]);
        assert!(matches!(d.next_frame(), Some(Frame::Garbage(_))));
        assert_eq!(d.pending(), 0);
    }
}
