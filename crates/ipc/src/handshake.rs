//! The version handshake: each side's first message is `Hello { version }`, and a side whose
//! peer says anything else closes the channel.
//!
//! Both enums keep `Hello` as variant 0 with one `u32` field (see [`crate::message`]), so a
//! peer from another build still decodes as `Hello` and the mismatch is reported as such.

use crate::error::HandshakeError;
use crate::message::Message;

/// The protocol version this build speaks. Bump it whenever a message changes shape.
pub const PROTOCOL_VERSION: u32 = 1;

/// Our `Hello`.
pub fn hello<M: Message>() -> M {
    M::hello(PROTOCOL_VERSION)
}

/// Checks the peer's first message.
pub fn check_hello<M: Message + std::fmt::Debug>(first: &M) -> Result<(), HandshakeError> {
    check_version_against(PROTOCOL_VERSION, first)
}

fn check_version_against<M: Message + std::fmt::Debug>(
    ours: u32,
    first: &M,
) -> Result<(), HandshakeError> {
    match first.hello_version() {
        Some(theirs) if theirs == ours => Ok(()),
        Some(theirs) => Err(HandshakeError::VersionMismatch { ours, theirs }),
        None => Err(HandshakeError::NotHello {
            got: variant_name(first),
        }),
    }
}

/// The variant name from the `Debug` text (no payload: a `Start` holds a whole config).
fn variant_name<M: std::fmt::Debug>(msg: &M) -> String {
    let text = format!("{msg:?}");
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    text.get(..end).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ToChild, ToParent};

    #[test]
    fn same_version_is_accepted() {
        check_hello(&hello::<ToParent>()).unwrap();
        check_hello(&hello::<ToChild>()).unwrap();
    }

    #[test]
    fn other_version_is_a_mismatch() {
        assert_eq!(
            check_hello(&ToParent::Hello {
                version: PROTOCOL_VERSION + 1
            }),
            Err(HandshakeError::VersionMismatch {
                ours: PROTOCOL_VERSION,
                theirs: PROTOCOL_VERSION + 1
            })
        );
        assert_eq!(
            check_version_against(7, &ToChild::Hello { version: 3 }),
            Err(HandshakeError::VersionMismatch { ours: 7, theirs: 3 })
        );
    }

    #[test]
    fn other_first_message_is_refused_by_name() {
        assert_eq!(
            check_hello(&ToChild::Dump {
                id: 1,
                format: crate::message::DumpFormat::Json
            }),
            Err(HandshakeError::NotHello { got: "Dump".into() })
        );
        assert_eq!(
            check_hello(&ToParent::Ready),
            Err(HandshakeError::NotHello {
                got: "Ready".into()
            })
        );
    }
}
