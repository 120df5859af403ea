//! [`FrameDecoder`]: a byte stream in, messages out.
//!
//! # Error policy
//!
//! * A complete frame whose payload does not decode (or has bytes left over) is dropped and
//!   counted; the next frame is read normally. The length prefix told us exactly where that
//!   frame ends, so the stream is still in step and one bad message costs one message.
//! * A length prefix over [`MAX_FRAME_LEN`] breaks the stream for good. Our encoder never
//!   writes such a frame, so the prefix is not a real length: the peer is corrupt or speaks
//!   something else, and a byte stream has no marker to find the next frame by. Skipping
//!   "that many" bytes would silently swallow up to 4 GiB of whatever follows, so the decoder
//!   instead discards its buffer, refuses further input ([`FrameError::Broken`]) and the shell
//!   closes the channel (the supervisor then restarts the child).
//!
//! # Memory
//!
//! The decoder holds only bytes pushed and not yet consumed: at most one partial frame
//! (header + [`MAX_FRAME_LEN`]) plus whatever the caller pushed since its last round of
//! [`pop`](FrameDecoder::pop) calls. An oversized prefix is caught as soon as its four bytes
//! are at the front, before its payload is buffered. Inside a payload, bincode's byte limit,
//! scaled to the payload's size, bounds what a length field can make it allocate (see
//! [`decode_payload`]).
//!
//! # Sockets
//!
//! Made for `SOCK_STREAM` (chunks split anywhere). It also works on `SOCK_SEQPACKET` if the
//! reader's buffer holds a whole record; a stream socket is the better choice for large
//! `Start` messages, since a record must fit the socket buffer in one piece.

use crate::codec::{decode_payload, HEADER_LEN, MAX_FRAME_LEN};
use crate::error::FrameError;
use crate::message::Message;
use std::marker::PhantomData;

/// Buffer capacity kept between frames; a larger one is given back once its frame is read.
const RETAINED_CAPACITY: usize = 64 * 1024;

/// Counters of what a [`FrameDecoder`] has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecoderStats {
    /// Bytes pushed (including those refused once broken).
    pub bytes_in: u64,
    /// Messages decoded.
    pub frames_ok: u64,
    /// Frames dropped because the payload did not decode or had trailing bytes.
    pub frames_dropped: u64,
    /// Length prefixes over the limit (at most one: the stream breaks on it).
    pub oversized: u64,
}

/// Splits a byte stream into frames and decodes each as an `M`.
///
/// Push bytes as they arrive with [`push`](Self::push), then call [`pop`](Self::pop) until it
/// returns `Ok(None)`; call [`finish`](Self::finish) when the peer closes.
#[derive(Debug)]
pub struct FrameDecoder<M> {
    buf: Vec<u8>,
    /// Start of unconsumed bytes in `buf`; consumed bytes are discarded lazily.
    pos: usize,
    /// Where the payload of the frame popped last lies in `buf`.
    last: Option<(usize, usize)>,
    broken: bool,
    stats: DecoderStats,
    _msg: PhantomData<fn() -> M>,
}

impl<M> Default for FrameDecoder<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> FrameDecoder<M> {
    /// An empty decoder.
    pub fn new() -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            last: None,
            broken: false,
            stats: DecoderStats::default(),
            _msg: PhantomData,
        }
    }

    /// Appends bytes read from the stream. Once the stream is broken the bytes are refused.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        self.stats.bytes_in = self.stats.bytes_in.saturating_add(bytes.len() as u64);
        if self.broken {
            return Err(FrameError::Broken);
        }
        self.last = None;
        self.compact();
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Counters so far.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Bytes received and not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether an oversized frame has broken the stream.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Call when the peer closed the stream: an error if it stopped inside a frame.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.broken {
            return Err(FrameError::Broken);
        }
        match self.buffered() {
            0 => Ok(()),
            buffered => Err(FrameError::Truncated { buffered }),
        }
    }

    fn compact(&mut self) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // A `Start` or `Reload` frame of thousands of instances grows the buffer to megabytes;
        // the small frames that follow must not keep that capacity for the process's life.
        if self.buf.capacity() > RETAINED_CAPACITY && self.buf.len() <= RETAINED_CAPACITY / 2 {
            self.buf.shrink_to(RETAINED_CAPACITY / 2);
        }
    }

    /// Gives back the capacity a large frame left behind once every byte is consumed; call
    /// after a round of [`pop`](Self::pop) (the next [`push`](Self::push) does it too).
    pub fn release(&mut self) {
        if self.pos == self.buf.len() && self.buf.capacity() > RETAINED_CAPACITY {
            self.buf = Vec::new();
            self.pos = 0;
            self.last = None;
        }
    }

    /// The payload of the frame [`pop`](FrameDecoder::pop) returned last, while it is still
    /// buffered (until the next [`push`](Self::push) or [`release`](Self::release)): a caller
    /// may keep a large message in its compact encoded form instead of decoded.
    pub fn last_payload(&self) -> Option<&[u8]> {
        let (start, end) = self.last?;
        self.buf.get(start..end)
    }

    fn break_stream(&mut self, len: u64) -> FrameError {
        self.broken = true;
        self.stats.oversized += 1;
        self.last = None;
        self.buf = Vec::new();
        self.pos = 0;
        FrameError::TooLarge {
            len,
            max: MAX_FRAME_LEN,
        }
    }

    /// The payload length announced at the front, if the whole prefix is there.
    fn front_len(&self) -> Option<u32> {
        let header = self.buf.get(self.pos..self.pos.checked_add(HEADER_LEN)?)?;
        let bytes: [u8; HEADER_LEN] = header.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }
}

impl<M: Message> FrameDecoder<M> {
    /// The next message, `Ok(None)` if more bytes are needed.
    ///
    /// [`FrameError::Decode`] and [`FrameError::TrailingBytes`] drop one frame: call `pop` again
    /// for the next one. [`FrameError::TooLarge`] and [`FrameError::Broken`] are final
    /// ([`FrameError::is_fatal`]).
    pub fn pop(&mut self) -> Result<Option<M>, FrameError> {
        if self.broken {
            return Err(FrameError::Broken);
        }
        let Some(announced) = self.front_len() else {
            return Ok(None);
        };
        let len = announced as usize;
        if len > MAX_FRAME_LEN {
            return Err(self.break_stream(u64::from(announced)));
        }
        let start = self.pos + HEADER_LEN;
        // No reserve for the announced length: the buffer grows with bytes that really arrive.
        let Some(payload) = self.buf.get(start..start + len) else {
            return Ok(None);
        };
        let result = decode_payload(payload);
        self.pos = start + len;
        self.last = Some((start, self.pos));
        match &result {
            Ok(_) => self.stats.frames_ok += 1,
            Err(_) => self.stats.frames_dropped += 1,
        }
        result.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode;
    use crate::message::{ToChild, ToParent};

    fn frame_of(payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn many_frames_in_one_chunk() {
        let mut bytes = Vec::new();
        for id in 0..5 {
            bytes.extend(encode(&ToChild::Stats { id, clear: false }).unwrap());
        }
        let mut d = FrameDecoder::<ToChild>::new();
        d.push(&bytes).unwrap();
        for id in 0..5 {
            assert_eq!(d.pop().unwrap(), Some(ToChild::Stats { id, clear: false }));
        }
        assert_eq!(d.pop().unwrap(), None);
        assert_eq!(d.buffered(), 0);
        d.finish().unwrap();
        assert_eq!(d.stats().frames_ok, 5);
    }

    #[test]
    fn oversized_length_breaks_the_stream_before_buffering_the_payload() {
        let mut d = FrameDecoder::<ToChild>::new();
        d.push(&((MAX_FRAME_LEN as u32) + 1).to_be_bytes()).unwrap();
        assert!(matches!(
            d.pop(),
            Err(FrameError::TooLarge { len, .. }) if len == MAX_FRAME_LEN as u64 + 1
        ));
        assert!(d.is_broken());
        assert_eq!(d.buffered(), 0);
        assert!(matches!(d.push(&[0; 16]), Err(FrameError::Broken)));
        assert!(matches!(d.pop(), Err(FrameError::Broken)));
        assert!(matches!(d.finish(), Err(FrameError::Broken)));
        assert_eq!(d.stats().oversized, 1);
        assert_eq!(d.stats().bytes_in, 20);
    }

    #[test]
    fn u32_max_length_is_rejected() {
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&[0xff; 4]).unwrap();
        let err = d.pop().unwrap_err();
        assert!(err.is_fatal());
        assert!(matches!(
            err,
            FrameError::TooLarge {
                len: 0xffff_ffff,
                ..
            }
        ));
    }

    #[test]
    fn limit_itself_is_accepted_as_a_length() {
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&(MAX_FRAME_LEN as u32).to_be_bytes()).unwrap();
        assert_eq!(d.pop().unwrap(), None);
        assert!(!d.is_broken());
        assert!(matches!(
            d.finish(),
            Err(FrameError::Truncated { buffered: 4 })
        ));
    }

    #[test]
    fn garbage_payload_is_dropped_and_the_next_frame_still_decodes() {
        let mut bytes = frame_of(&[0xfe, 0xff, 0x13]);
        bytes.extend(encode(&ToParent::Ready).unwrap());
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&bytes).unwrap();
        let err = d.pop().unwrap_err();
        assert!(matches!(err, FrameError::Decode { len: 3, .. }), "{err}");
        assert!(!err.is_fatal());
        assert_eq!(d.pop().unwrap(), Some(ToParent::Ready));
        assert_eq!(d.stats().frames_dropped, 1);
        assert_eq!(d.stats().frames_ok, 1);
    }

    #[test]
    fn trailing_bytes_drop_the_frame() {
        // Variant 1 of ToParent is `Ready` (one byte); a second byte is left over.
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&frame_of(&[1, 0])).unwrap();
        assert!(matches!(
            d.pop(),
            Err(FrameError::TrailingBytes { len: 2, extra: 1 })
        ));
        assert_eq!(d.pop().unwrap(), None);
    }

    #[test]
    fn empty_payload_is_a_decode_error() {
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&frame_of(&[])).unwrap();
        assert!(matches!(d.pop(), Err(FrameError::Decode { len: 0, .. })));
        d.finish().unwrap();
    }

    #[test]
    fn hostile_string_length_inside_a_small_frame_is_refused_before_allocating() {
        // ToParent::Log { level: Error, text }: variant 6, level 0, then a varint string length
        // of 60 MiB (marker 252 + u32) with no bytes behind it. The limit for a frame this
        // small is 64 KiB, so bincode refuses the claim instead of allocating 60 MiB.
        let mut payload = vec![6, 0, 252];
        payload.extend_from_slice(&(60u32 << 20).to_le_bytes());
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&frame_of(&payload)).unwrap();
        assert!(matches!(
            d.pop(),
            Err(FrameError::Decode {
                source: bincode::error::DecodeError::LimitExceeded,
                ..
            })
        ));
        // A length beyond what the frame holds but within the limit fails on the missing bytes.
        let mut payload = vec![6, 0, 251];
        payload.extend_from_slice(&1000u16.to_le_bytes());
        d.push(&frame_of(&payload)).unwrap();
        assert!(matches!(
            d.pop(),
            Err(FrameError::Decode {
                source: bincode::error::DecodeError::UnexpectedEnd { .. },
                ..
            })
        ));
    }

    #[test]
    fn truncated_stream_is_reported_at_finish() {
        let bytes = encode(&ToChild::Shutdown).unwrap();
        let mut d = FrameDecoder::<ToChild>::new();
        d.push(&bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(d.pop().unwrap(), None);
        assert!(matches!(
            d.finish(),
            Err(FrameError::Truncated { buffered }) if buffered == bytes.len() - 1
        ));
        // A header cut short is truncated too.
        let mut d = FrameDecoder::<ToChild>::new();
        d.push(&bytes[..2]).unwrap();
        assert_eq!(d.pop().unwrap(), None);
        assert!(matches!(
            d.finish(),
            Err(FrameError::Truncated { buffered: 2 })
        ));
    }

    #[test]
    fn consumed_bytes_are_released() {
        let one = encode(&ToParent::Ready).unwrap();
        let mut d = FrameDecoder::<ToParent>::new();
        for _ in 0..10_000 {
            d.push(&one).unwrap();
            assert_eq!(d.pop().unwrap(), Some(ToParent::Ready));
        }
        assert_eq!(d.buffered(), 0);
        d.push(&one[..1]).unwrap();
        assert!(d.buf.capacity() < 1024);
    }

    #[test]
    fn a_large_frame_leaves_no_large_buffer_behind() {
        let text = "x".repeat(1 << 20);
        let big = encode(&ToParent::DumpReply { id: 1, text }).unwrap();
        let small = encode(&ToParent::Ready).unwrap();
        let mut d = FrameDecoder::<ToParent>::new();
        for chunk in big.chunks(16 * 1024) {
            d.push(chunk).unwrap();
        }
        assert!(matches!(d.pop().unwrap(), Some(ToParent::DumpReply { .. })));
        assert!(d.buf.capacity() >= 1 << 20);
        d.push(&small).unwrap();
        assert!(d.buf.capacity() <= RETAINED_CAPACITY);
        assert_eq!(d.pop().unwrap(), Some(ToParent::Ready));
        // Or at once, without waiting for the next push.
        d.push(&big).unwrap();
        assert!(d.pop().unwrap().is_some());
        d.release();
        assert_eq!(d.buf.capacity(), 0);
        assert_eq!(d.last_payload(), None);
    }

    #[test]
    fn release_keeps_a_partial_frame() {
        let big = encode(&ToParent::DumpReply {
            id: 1,
            text: "y".repeat(1 << 18),
        })
        .unwrap();
        let mut d = FrameDecoder::<ToParent>::new();
        d.push(&big[..big.len() - 1]).unwrap();
        d.release();
        assert_eq!(d.buffered(), big.len() - 1);
        d.push(&big[big.len() - 1..]).unwrap();
        assert!(d.pop().unwrap().is_some());
    }

    #[test]
    fn last_payload_is_the_frame_just_popped() {
        let a = encode(&ToChild::Stats { id: 7, clear: true }).unwrap();
        let b = encode(&ToChild::Shutdown).unwrap();
        let mut d = FrameDecoder::<ToChild>::new();
        assert_eq!(d.last_payload(), None);
        d.push(&[a.clone(), b.clone()].concat()).unwrap();
        assert!(d.pop().unwrap().is_some());
        assert_eq!(d.last_payload(), a.get(HEADER_LEN..));
        assert!(d.pop().unwrap().is_some());
        assert_eq!(d.last_payload(), b.get(HEADER_LEN..));
        let again: ToChild = decode_payload(d.last_payload().unwrap()).unwrap();
        assert_eq!(again, ToChild::Shutdown);
        d.push(&a).unwrap();
        assert_eq!(d.last_payload(), None);
    }
}
