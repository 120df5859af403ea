//! One message <-> one frame: a `u32` big-endian payload length, then the bincode payload.

use crate::error::{EncodeError, FrameError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest payload a frame may carry. A 1,000-instance configuration is a few hundred KiB,
/// so this leaves ample room while capping what a hostile length prefix can make us allocate.
pub const MAX_FRAME_LEN: usize = 64 * 1024 * 1024;

/// Size of the length prefix.
pub const HEADER_LEN: usize = 4;

/// bincode's standard configuration (varint integers, little endian) with a byte limit, so a
/// length inside the payload (a string, a vector) cannot claim more than a frame can hold.
pub(crate) fn wire_config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME_LEN>()
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
pub fn decode_payload<M: DeserializeOwned>(payload: &[u8]) -> Result<M, FrameError> {
    match bincode::serde::decode_from_slice::<M, _>(payload, wire_config()) {
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
