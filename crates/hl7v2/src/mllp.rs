//! MLLP framing (`0x0B` payload `0x1C 0x0D`) as a tokio-util codec: bounded frames, resync after
//! garbage, pipelined frames split correctly, and no payload ever logged or put in an error.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

pub const START_BLOCK: u8 = 0x0B;
pub const END_BLOCK: u8 = 0x1C;
pub const CARRIAGE_RETURN: u8 = 0x0D;

#[derive(Debug, thiserror::Error)]
pub enum MllpError {
    #[error("mllp frame exceeds the maximum of {max} bytes")]
    FrameTooLarge { max: usize },
    #[error("mllp frame unterminated when the connection closed ({} bytes)", partial.len())]
    Unterminated { partial: Bytes },
    #[error("mllp i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Codec state. `discarded_bytes` counts bytes thrown away before a start block (for a metric).
#[derive(Debug, Clone)]
pub struct MllpCodec {
    max_frame_len: usize,
    /// Offset in the buffer (after the start block) where the end-block search resumes.
    scanned: usize,
    discarded_bytes: u64,
}

impl MllpCodec {
    pub fn new(max_frame_len: usize) -> Self {
        Self { max_frame_len, scanned: 0, discarded_bytes: 0 }
    }

    /// A new largest frame for the frames not yet read (a listener's limits were reloaded).
    pub fn set_max_frame_len(&mut self, max_frame_len: usize) {
        self.max_frame_len = max_frame_len;
    }
    /// Bytes dropped so far because they came before a start block.
    pub fn discarded_bytes(&self) -> u64 {
        self.discarded_bytes
    }
}

impl Default for MllpCodec {
    fn default() -> Self {
        Self::new(16 * 1024 * 1024)
    }
}

impl Decoder for MllpCodec {
    type Item = Bytes;
    type Error = MllpError;

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MllpError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None => self.unterminated(src),
        }
    }

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MllpError> {
        loop {
            // Resync: everything before a start block is garbage.
            if src.first() != Some(&START_BLOCK) {
                let skip = memchr::memchr(START_BLOCK, src).unwrap_or(src.len());
                self.discarded_bytes += skip as u64;
                src.advance(skip);
                self.scanned = 0;
                if src.is_empty() {
                    return Ok(None);
                }
            }
            let body = &src[1..];
            let mut from = self.scanned;
            while let Some(i) = memchr::memchr(END_BLOCK, &body[from..]) {
                let at = from + i;
                match body.get(at + 1) {
                    // A frame over the limit whose end came in the same read that passed the
                    // limit is refused too (it used to be returned whole: found by fuzzing).
                    Some(&CARRIAGE_RETURN) if at > self.max_frame_len => {
                        self.discarded_bytes += (at + 3) as u64;
                        src.advance(at + 3);
                        self.scanned = 0;
                        return Err(MllpError::FrameTooLarge { max: self.max_frame_len });
                    }
                    Some(&CARRIAGE_RETURN) => {
                        self.scanned = 0;
                        let mut frame = src.split_to(at + 3);
                        frame.advance(1);
                        frame.truncate(at);
                        return Ok(Some(frame.freeze()));
                    }
                    // 0x1C not followed by CR: keep searching after it.
                    Some(_) => from = at + 1,
                    // 0x1C is the last byte read so far: wait for the next one.
                    None => {
                        self.scanned = at;
                        return self.check_size(src);
                    }
                }
            }
            // A new start block inside an unterminated frame: the sender gave up on the old one.
            if let Some(restart) = memchr::memchr(START_BLOCK, &body[self.scanned..]) {
                let drop = 1 + self.scanned + restart;
                self.discarded_bytes += drop as u64;
                src.advance(drop);
                self.scanned = 0;
                continue;
            }
            self.scanned = body.len();
            return self.check_size(src);
        }
    }
}

impl MllpCodec {
    /// At the end of the input: a started frame without its end block is an error carrying what
    /// came (never dropped silently); garbage after the last frame is only counted.
    fn unterminated(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MllpError> {
        if src.first() == Some(&START_BLOCK) && src.len() > 1 {
            let mut partial = src.split();
            partial.advance(1);
            self.scanned = 0;
            return Err(MllpError::Unterminated { partial: partial.freeze() });
        }
        self.discarded_bytes += src.len() as u64;
        src.clear();
        Ok(None)
    }

    fn check_size(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, MllpError> {
        if src.len() > self.max_frame_len + 3 {
            self.discarded_bytes += src.len() as u64;
            src.clear();
            self.scanned = 0;
            return Err(MllpError::FrameTooLarge { max: self.max_frame_len });
        }
        Ok(None)
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for MllpCodec {
    type Error = MllpError;

    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), MllpError> {
        let payload = item.as_ref();
        dst.reserve(payload.len() + 3);
        dst.put_u8(START_BLOCK);
        dst.put_slice(payload);
        dst.put_slice(&[END_BLOCK, CARRIAGE_RETURN]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(codec: &mut MllpCodec, input: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            while let Ok(Some(f)) = codec.decode(&mut buf) {
                out.push(f.to_vec());
            }
        }
        out
    }

    #[test]
    fn splits_pipelined_frames_at_any_read_boundary() {
        let input = b"\x0bMSH|one\r\x1c\x0d\x0bMSH|two\x1cx\r\x1c\x0d";
        for chunk in 1..input.len() {
            let got = frames(&mut MllpCodec::default(), input, chunk);
            assert_eq!(got, vec![b"MSH|one\r".to_vec(), b"MSH|two\x1cx\r".to_vec()], "chunk {chunk}");
        }
    }

    #[test]
    fn resyncs_after_garbage_and_abandoned_frames() {
        let mut codec = MllpCodec::default();
        let got = frames(&mut codec, b"garbage\x0bhalf a frame\x0bMSH|ok\x1c\x0dtrailing", 4);
        assert_eq!(got, vec![b"MSH|ok".to_vec()]);
        assert_eq!(codec.discarded_bytes(), 7 + 13 + 8);
    }

    #[test]
    fn refuses_frames_over_the_limit_without_echoing_them() {
        let mut codec = MllpCodec::new(8);
        let mut buf = BytesMut::from(&b"\x0bMSH|0123456789-secret"[..]);
        let err = codec.decode(&mut buf).expect_err("too large");
        assert_eq!(err.to_string(), "mllp frame exceeds the maximum of 8 bytes");
        assert!(buf.is_empty());
    }

    /// Regression (found by the mllp_codec fuzz target): a frame over the limit whose end block
    /// arrived in the read that passed the limit was returned whole; any frame over the limit,
    /// however it arrives, is refused, and the frame after it is still read.
    #[test]
    fn a_frame_over_the_limit_arriving_with_its_end_was_accepted() {
        let input = b"\x0bMSH|0123456789\x1c\x0d\x0bMSH|ok\x1c\x0d";
        for chunk in [1, 5, input.len()] {
            let mut codec = MllpCodec::new(8);
            let mut buf = BytesMut::new();
            let (mut refused, mut got) = (0, Vec::new());
            for piece in input.chunks(chunk) {
                buf.extend_from_slice(piece);
                loop {
                    match codec.decode(&mut buf) {
                        Ok(Some(f)) => got.push(f.to_vec()),
                        Ok(None) => break,
                        Err(MllpError::FrameTooLarge { .. }) => refused += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            assert_eq!((refused, got), (1, vec![b"MSH|ok".to_vec()]), "chunk {chunk}");
        }
    }

    #[test]
    fn encodes_a_frame() {
        let mut dst = BytesMut::new();
        MllpCodec::default().encode(b"MSH|x", &mut dst).expect("encode");
        assert_eq!(&dst[..], b"\x0bMSH|x\x1c\x0d");
    }
}
