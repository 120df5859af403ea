//! Netlink framing, read and written by hand: message headers, `NLMSG_ERROR` answers and their
//! extended-ack text. Pure functions over byte slices (unit-tested); neli handles the rtnetlink
//! payloads inside.

use std::io::Cursor;

use neli::{Size, ToBytes};

/// Size of `struct nlmsghdr`.
pub(crate) const NLMSG_HDRLEN: usize = 16;
/// `NLMSG_NOOP`: nothing to do; with `NLM_F_ACK` the kernel just acknowledges it.
pub(crate) const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: an error or (code 0) an acknowledgement.
pub(crate) const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
pub(crate) const NLMSG_DONE: u16 = 3;
/// `NLMSG_OVERRUN`: data lost.
pub(crate) const NLMSG_OVERRUN: u16 = 4;
/// `NLM_F_REQUEST`.
pub(crate) const NLM_F_REQUEST: u16 = 0x01;
/// `NLM_F_ACK`.
pub(crate) const NLM_F_ACK: u16 = 0x04;
/// `NLM_F_MULTI`: part of a multipart answer.
pub(crate) const NLM_F_MULTI: u16 = 0x02;
/// `NLM_F_DUMP_INTR`: the dump was interrupted by a change (its content may be inconsistent).
pub(crate) const NLM_F_DUMP_INTR: u16 = 0x10;
/// `NLM_F_CAPPED`: an error answer carries only the header of the request.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLM_F_ACK_TLVS`: an error answer carries extended-ack attributes.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// `NLMSGERR_ATTR_MSG`: the extended-ack text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// One netlink message inside a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawMsg<'a> {
    /// `nlmsg_type`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// The bytes after the header, up to `nlmsg_len`.
    pub payload: &'a [u8],
}

/// The content of an `NLMSG_ERROR` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorMsg {
    /// 0 for an acknowledgement, else a negative errno.
    pub code: i32,
    /// The kernel's extended-ack text, if any.
    pub ext_msg: Option<String>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let bytes = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes([
        bytes.first().copied()?,
        bytes.get(1).copied()?,
    ]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(bytes))
}

/// Rounds up to netlink's 4-byte alignment.
pub(crate) fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Splits one received datagram into its messages. A truncated or impossible length ends the
/// walk with an error naming the offset.
pub(crate) fn split(buf: &[u8]) -> Result<Vec<RawMsg<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < buf.len() {
        let len =
            u32_at(buf, at).ok_or_else(|| format!("truncated header at offset {at}"))? as usize;
        if len < NLMSG_HDRLEN {
            return Err(format!(
                "message length {len} at offset {at} is shorter than a header"
            ));
        }
        let end = at
            .checked_add(len)
            .filter(|&e| e <= buf.len())
            .ok_or_else(|| {
                format!(
                    "message length {len} at offset {at} runs past the datagram ({} bytes)",
                    buf.len()
                )
            })?;
        let ty = u16_at(buf, at + 4).unwrap_or_default();
        let flags = u16_at(buf, at + 6).unwrap_or_default();
        let seq = u32_at(buf, at + 8).unwrap_or_default();
        let payload = buf.get(at + NLMSG_HDRLEN..end).unwrap_or_default();
        out.push(RawMsg {
            ty,
            flags,
            seq,
            payload,
        });
        at = align4(end);
    }
    Ok(out)
}

/// Reads an `NLMSG_ERROR` payload: the code, then (unless capped) the echoed request, then the
/// extended-ack attributes when `NLM_F_ACK_TLVS` is set.
pub(crate) fn parse_error(msg: &RawMsg<'_>) -> Result<ErrorMsg, String> {
    let code = u32_at(msg.payload, 0).ok_or("error message without a code")? as i32;
    let mut ext_msg = None;
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        let echoed = if msg.flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            align4(u32_at(msg.payload, 4).unwrap_or(NLMSG_HDRLEN as u32) as usize)
        };
        let mut at = 4usize.saturating_add(echoed);
        while let (Some(len), Some(ty)) = (u16_at(msg.payload, at), u16_at(msg.payload, at + 2)) {
            let len = len as usize;
            if len < 4 {
                break;
            }
            if ty & 0x3fff == NLMSGERR_ATTR_MSG {
                if let Some(text) = msg.payload.get(at + 4..at + len) {
                    let text = text.split(|&b| b == 0).next().unwrap_or_default();
                    ext_msg = Some(String::from_utf8_lossy(text).into_owned());
                }
            }
            at = at.saturating_add(align4(len));
        }
    }
    Ok(ErrorMsg { code, ext_msg })
}

/// Encodes a request: a netlink header followed by a neli-serialised rtnetlink payload.
pub(crate) fn encode<P: Size + ToBytes>(
    ty: u16,
    flags: u16,
    seq: u32,
    payload: &P,
) -> Result<Vec<u8>, neli::err::SerError> {
    let mut body = Cursor::new(Vec::with_capacity(payload.padded_size()));
    payload.to_bytes(&mut body)?;
    let body = body.into_inner();
    let len = NLMSG_HDRLEN + align4(body.len());
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&body);
    out.resize(len, 0);
    Ok(out)
}

/// A header-only `NLMSG_NOOP` request asking for an acknowledgement (`NLM_F_REQUEST |
/// NLM_F_ACK`): placed after a batch, its answer comes after the answers of everything before it.
pub(crate) fn noop_ack(seq: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(NLMSG_HDRLEN);
    out.extend_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
    out.extend_from_slice(&NLMSG_NOOP.to_ne_bytes());
    out.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out
}

/// A NUL-terminated (or not) attribute string.
pub(crate) fn attr_string(bytes: &[u8]) -> String {
    let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

/// A native-endian u32 attribute.
pub(crate) fn attr_u32(bytes: &[u8]) -> Option<u32> {
    u32_at(bytes, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u32, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&7u32.to_ne_bytes());
        v
    }

    #[test]
    fn split_walks_aligned_messages() {
        let mut buf = header(21, 16, NLM_F_MULTI, 5);
        buf.extend_from_slice(&[1, 2, 3, 4, 5, 0, 0, 0]);
        buf.extend_from_slice(&header(16, NLMSG_DONE, NLM_F_MULTI, 5));
        let msgs = split(&buf).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].ty, 16);
        assert_eq!(msgs[0].payload, &[1, 2, 3, 4, 5]);
        assert_eq!(msgs[1].ty, NLMSG_DONE);
        assert_eq!(msgs[1].seq, 5);
    }

    #[test]
    fn split_rejects_bad_lengths_without_panicking() {
        assert!(split(&header(8, 16, 0, 1)).is_err());
        assert!(split(&header(400, 16, 0, 1)).is_err());
        assert!(split(&[1, 2]).is_err());
        assert_eq!(split(&[]).unwrap(), vec![]);
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let _ = split(&junk);
        }
    }

    #[test]
    fn error_with_extended_ack_text() {
        let request = header(16, 20, 5, 9);
        let mut payload = (-17i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&request);
        let text = b"Address already assigned\0";
        payload.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        payload.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        payload.extend_from_slice(text);
        let msg = RawMsg {
            ty: NLMSG_ERROR,
            flags: NLM_F_ACK_TLVS,
            seq: 9,
            payload: &payload,
        };
        let e = parse_error(&msg).unwrap();
        assert_eq!(e.code, -17);
        assert_eq!(e.ext_msg.as_deref(), Some("Address already assigned"));
    }

    #[test]
    fn plain_ack() {
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend_from_slice(&header(16, 20, 5, 9));
        let msg = RawMsg {
            ty: NLMSG_ERROR,
            flags: 0,
            seq: 9,
            payload: &payload,
        };
        assert_eq!(
            parse_error(&msg).unwrap(),
            ErrorMsg {
                code: 0,
                ext_msg: None
            }
        );
    }

    #[test]
    fn noop_ack_is_a_header_only_request() {
        let bytes = noop_ack(0xdead_beef);
        let msgs = split(&bytes).unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].ty, NLMSG_NOOP);
        assert_eq!(msgs[0].flags, NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(msgs[0].seq, 0xdead_beef);
        assert!(msgs[0].payload.is_empty());
    }

    #[test]
    fn encode_pads_and_sets_length() {
        let bytes = encode(20, 5, 42, &[1u8, 2, 3, 4, 5].as_slice()).unwrap();
        assert_eq!(bytes.len(), 24);
        let msgs = split(&bytes).unwrap();
        assert_eq!(msgs[0].ty, 20);
        assert_eq!(msgs[0].flags, 5);
        assert_eq!(msgs[0].seq, 42);
    }
}
