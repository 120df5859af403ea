//! The errors of encoding, decoding and the handshake.

/// A message could not be turned into a frame.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// bincode refused the message (a path that is not UTF-8, for instance).
    #[error("cannot encode message: {0}")]
    Bincode(#[from] bincode::error::EncodeError),
    /// The encoded message is larger than a frame may be.
    #[error("message of {len} bytes exceeds the {max}-byte frame limit")]
    TooLarge {
        /// Encoded payload size.
        len: usize,
        /// [`MAX_FRAME_LEN`](crate::MAX_FRAME_LEN).
        max: usize,
    },
}

/// A frame could not be turned into a message.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A length prefix over the limit. The stream is broken from here on (see
    /// [`FrameDecoder`](crate::FrameDecoder) for why).
    #[error("frame length {len} exceeds the {max}-byte limit; stream broken")]
    TooLarge {
        /// The length the prefix announced.
        len: u64,
        /// [`MAX_FRAME_LEN`](crate::MAX_FRAME_LEN).
        max: usize,
    },
    /// A complete frame whose payload is not a message; the frame was dropped and the stream
    /// continues with the next one.
    #[error("dropped undecodable {len}-byte frame: {source}")]
    Decode {
        /// Payload size.
        len: usize,
        /// What bincode said.
        source: bincode::error::DecodeError,
    },
    /// A complete frame with bytes left over after the message; the frame was dropped.
    #[error("dropped {len}-byte frame with {extra} bytes after the message")]
    TrailingBytes {
        /// Payload size.
        len: usize,
        /// Bytes not used by the message.
        extra: usize,
    },
    /// The stream ended in the middle of a frame.
    #[error("stream ended inside a frame ({buffered} bytes of it received)")]
    Truncated {
        /// Bytes of the unfinished frame that arrived.
        buffered: usize,
    },
    /// The decoder met a [`FrameError::TooLarge`] earlier and accepts nothing more.
    #[error("stream broken by an earlier oversized frame")]
    Broken,
}

impl FrameError {
    /// Whether the stream can go on after this error (the bad frame was dropped) or must be
    /// closed.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::TooLarge { .. } | Self::Truncated { .. } | Self::Broken
        )
    }
}

/// The peer's first message was not an acceptable `Hello`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Both sides speak different protocol versions (a parent and a child from different builds).
    #[error("IPC protocol version mismatch: ours {ours}, peer {theirs}")]
    VersionMismatch {
        /// Our [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
        ours: u32,
        /// The peer's.
        theirs: u32,
    },
    /// The first message was something else.
    #[error("expected Hello as the first IPC message, got {got}")]
    NotHello {
        /// The message's variant, for the log.
        got: String,
    },
}
