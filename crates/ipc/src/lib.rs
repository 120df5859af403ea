//! The messages between the keepalived-rs supervisor and its VRRP and checker children, and
//! their framing. Pure: no sockets; messages become bytes and a byte stream becomes messages.
//!
//! A frame is a `u32` big-endian payload length followed by the message encoded with bincode 2
//! (serde, standard configuration, byte limit [`MAX_FRAME_LEN`]). Each side opens with
//! `Hello { version }` ([`handshake`]).
//!
//! ```
//! use keepalived_ipc::{encode, FrameDecoder, ToParent};
//! let bytes = encode(&ToParent::Ready)?;
//! let mut decoder = FrameDecoder::<ToParent>::new();
//! for chunk in bytes.chunks(2) {
//!     decoder.push(chunk)?;
//! }
//! assert_eq!(decoder.pop()?, Some(ToParent::Ready));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod decoder;
pub mod delta;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod message;

pub use codec::{decode_payload, encode, encode_into, HEADER_LEN, MAX_FRAME_LEN};
pub use decoder::{DecoderStats, FrameDecoder};
pub use delta::{DeltaError, InstanceBytes, InstanceFrom};
pub use error::{EncodeError, FrameError, HandshakeError};
pub use handshake::{check_hello, hello, PROTOCOL_VERSION};
pub use message::{
    retag_reload_as_start, retag_start_as_reload, DumpFormat, InstanceStatus, LogLevel, Message,
    ScriptExit, ToChild, ToParent, TrackerKind, TrackerStatus, UnixMicros, VrrpState,
};
