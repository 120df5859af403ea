//! One message <-> one frame: a `u32` big-endian payload length, then the bincode payload.

use crate::error::{EncodeError, FrameError};
use crate::message::Message;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest payload a frame may carry. A 1,000-instance configuration is about 300 KB and a
/// 10,000-instance one about 3 MB, so this leaves ample room while capping what a peer can make
/// a decoder buffer.
pub const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

/// bincode's standard configuration: varint integers, little endian. (The byte limit only
/// matters when decoding, see [`decode_payload`].)
pub(crate) fn wire_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// How much bincode may claim per payload byte of a genuine message. bincode claims each
/// value's in-memory size before reading it: up to 16 bytes for a one-byte varint (`u128`), 8
/// for a one-byte `u64` or length prefix, 4 for a one-byte variant index, a string's length
/// for that many bytes.
const CLAIM_PER_BYTE: usize = 16;

fn decode_limited<M: DeserializeOwned, const LIMIT: usize>(
    payload: &[u8],
) -> Result<(M, usize), bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(payload, wire_config().with_limit::<LIMIT>())
}

/// Decodes with the smallest of a ladder of byte limits that a genuine message of this size
/// stays under.
///
/// bincode checks a string's announced length against the limit and then allocates it before
/// reading (it cannot know the slice is shorter). With one limit for every frame, a 12-byte
/// frame announcing a 60 MiB string would allocate 60 MiB; with the limit scaled to the
/// payload, what a frame can make the decoder allocate is proportional to its size (at most
/// 64 times it, at least 64 KiB). The limit is a const generic, hence a ladder (powers of 4)
/// rather than the exact figure.
fn decode_tiered<M: DeserializeOwned>(
    payload: &[u8],
) -> Result<(M, usize), bincode::error::DecodeError> {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    match payload.len().saturating_mul(CLAIM_PER_BYTE) {
        n if n <= 64 * KIB => decode_limited::<M, { 64 * KIB }>(payload),
        n if n <= 256 * KIB => decode_limited::<M, { 256 * KIB }>(payload),
        n if n <= MIB => decode_limited::<M, MIB>(payload),
        n if n <= 4 * MIB => decode_limited::<M, { 4 * MIB }>(payload),
        n if n <= 16 * MIB => decode_limited::<M, { 16 * MIB }>(payload),
        n if n <= 64 * MIB => decode_limited::<M, { 64 * MIB }>(payload),
        n if n <= 256 * MIB => decode_limited::<M, { 256 * MIB }>(payload),
        _ => decode_limited::<M, { MAX_FRAME_LEN * CLAIM_PER_BYTE }>(payload),
    }
}

/// Encodes `msg` as one frame.
pub fn encode<M: Serialize>(msg: &M) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(msg, &mut out)?;
    Ok(out)
}

/// Appends `msg` as one frame to `out` (several frames can be batched in one buffer). On error
/// `out` is left as it was.
pub fn encode_into<M: Serialize>(msg: &M, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    let result = bincode::serde::encode_into_std_write(msg, out, wire_config());
    let payload_len = out.len() - start - HEADER_LEN;
    let header = match result {
        Err(e) => Err(EncodeError::from(e)),
        Ok(_) => match u32::try_from(payload_len) {
            Ok(len) if payload_len <= MAX_FRAME_LEN => Ok(len.to_be_bytes()),
            _ => Err(EncodeError::TooLarge {
                len: payload_len,
                max: MAX_FRAME_LEN,
            }),
        },
    };
    match header {
        Ok(bytes) => {
            if let Some(slot) = out.get_mut(start..start + HEADER_LEN) {
                slot.copy_from_slice(&bytes);
            }
            Ok(())
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

/// Decodes one frame's payload (without its length prefix); every byte must belong to the
/// message.
///
/// What a hostile payload can make this allocate is proportional to its length: at most
/// 64 times it (at least 64 KiB) for strings, plus serde's capped pre-allocation (1 MiB) for
/// each sequence being decoded at the same time.
pub fn decode_payload<M: Message>(payload: &[u8]) -> Result<M, FrameError> {
    M::decode_frame(payload)
}

/// The body of [`Message::decode_frame`]. Generic code instantiated once per message type,
/// inside this crate (see [`Message::decode_frame`]).
pub(crate) fn decode_checked<M: DeserializeOwned>(payload: &[u8]) -> Result<M, FrameError> {
    match decode_tiered::<M>(payload) {
        Ok((msg, used)) if used == payload.len() => Ok(msg),
        Ok((_, used)) => Err(FrameError::TrailingBytes {
            len: payload.len(),
            extra: payload.len().saturating_sub(used),
        }),
        Err(source) => Err(FrameError::Decode {
            len: payload.len(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{InstanceStatus, ToChild, UnixMicros, VrrpState};

    /// Many one-byte integers make bincode claim far more than the payload size; the scaled
    /// limit must still let every genuine message through.
    #[test]
    fn claim_heavy_message_decodes_at_every_tier() {
        for count in [1usize, 100, 3_000, 20_000, 300_000] {
            let msg = ToChild::Resume {
                last_states: vec![
                    InstanceStatus {
                        name: String::new(),
                        state: VrrpState::Init,
                        priority: 0,
                        since: UnixMicros(0),
                    };
                    count
                ],
            };
            let bytes = encode(&msg).unwrap();
            assert_eq!(
                decode_payload::<ToChild>(&bytes[HEADER_LEN..]).unwrap(),
                msg
            );
        }
    }

    #[test]
    fn oversized_message_is_refused_by_the_encoder() {
        let msg = crate::message::ToParent::DumpReply {
            id: 0,
            text: "x".repeat(MAX_FRAME_LEN),
        };
        let mut out = vec![7];
        assert!(matches!(
            encode_into(&msg, &mut out),
            Err(EncodeError::TooLarge {
                max: MAX_FRAME_LEN,
                ..
            })
        ));
        assert_eq!(out, [7]);
    }
}
