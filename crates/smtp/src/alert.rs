//! The alert mails keepalived sends: subjects, bodies and the DATA section (headers, body,
//! dot-stuffing, CRLF line ends, the final `.`).
//!
//! Texts follow keepalived 2.2's so that mail filters written for it keep matching:
//! subject `[<router_id>] VRRP Instance <name> - Entering MASTER state`, headers `Date`,
//! `From`, `Subject`, `X-Mailer: Keepalived`, `To` in that order, one body line.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest subject keepalived builds (its `MAX_HEADERS_LENGTH` less the terminating NUL).
pub const MAX_SUBJECT: usize = 255;
/// Longest body keepalived sends (its `MAX_BODY_LENGTH` less the terminating NUL).
pub const MAX_BODY: usize = 511;

/// One alert: what the mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The `Subject:` header.
    pub subject: String,
    /// The body (one line in every alert keepalived sends).
    pub body: String,
}

/// A state an alert reports, for an instance or a sync group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertState {
    /// Now MASTER.
    Master,
    /// Now BACKUP.
    Backup,
    /// Now FAULT.
    Fault,
    /// Stopping (shutdown).
    Stop,
    /// Removed by a reload (instances only).
    Deleted,
}

/// `[<router_id>] ` or nothing when there is no router id.
fn prefix(router_id: Option<&str>) -> String {
    match router_id {
        Some(id) => format!("[{id}] "),
        None => String::new(),
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary, as keepalived's fixed buffers do.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn alert(subject: String, body: &str) -> Alert {
    Alert {
        subject: truncate(subject, MAX_SUBJECT),
        body: truncate(body.to_string(), MAX_BODY),
    }
}

/// The mail for a VRRP instance's transition.
pub fn vrrp_instance(router_id: Option<&str>, name: &str, state: AlertState) -> Alert {
    let (what, body) = match state {
        AlertState::Master => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        AlertState::Backup => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        AlertState::Fault => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        AlertState::Stop => ("Stopping", "=> VRRP Instance stopping <="),
        AlertState::Deleted => ("Deleted", "=> VRRP Deleted at reload <="),
    };
    alert(
        format!("{}VRRP Instance {name} - {what}", prefix(router_id)),
        body,
    )
}

/// The mail for a sync group's transition; `None` for a state groups do not report
/// (`Deleted`).
pub fn vrrp_group(router_id: Option<&str>, name: &str, state: AlertState) -> Option<Alert> {
    let (what, body) = match state {
        AlertState::Master => (
            "Entering MASTER state",
            "=> All VRRP group instances are now in MASTER state <=",
        ),
        AlertState::Backup => (
            "Entering BACKUP state",
            "=> All VRRP group instances are now in BACKUP state <=",
        ),
        AlertState::Fault => (
            "Entering FAULT state",
            "=> All VRRP group instances are now in FAULT state <=",
        ),
        AlertState::Stop => (
            "Stopping",
            "=> All VRRP group instances are now stopping <=",
        ),
        AlertState::Deleted => return None,
    };
    Some(alert(
        format!("{}VRRP Group {name} - {what}", prefix(router_id)),
        body,
    ))
}

/// Transport protocol of a virtual service, as keepalived prints it in `[ip]:proto:port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `tcp`.
    Tcp,
    /// `udp`.
    Udp,
    /// `sctp`.
    Sctp,
    /// `none` (fwmark services).
    None,
}

impl Protocol {
    fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
            Protocol::None => "none",
        }
    }
}

/// keepalived's `[ip]:proto:port` rendering of a service or real server address.
pub fn service_trio(addr: SocketAddr, proto: Protocol) -> String {
    format!("[{}]:{}:{}", addr.ip(), proto.as_str(), addr.port())
}

/// The mail for a real server's checker result: subject `... Realserver <rs> of virtual server
/// <vs> - UP|DOWN`; `body` is the checker's line, e.g. `=> TCP CHECK succeed on service <=`.
/// `rs` and `vs` are already rendered ([`service_trio`], `FWM <mark>`, `[<group>]:<port>`).
pub fn real_server(router_id: Option<&str>, rs: &str, vs: &str, up: bool, body: &str) -> Alert {
    let state = if up { "UP" } else { "DOWN" };
    alert(
        format!(
            "{}Realserver {rs} of virtual server {vs} - {state}",
            prefix(router_id)
        ),
        body,
    )
}

/// The mail for a real server taken out of service by a reload or at shutdown.
pub fn real_server_removed(router_id: Option<&str>, rs: &str, vs: &str, stopping: bool) -> Alert {
    real_server(
        router_id,
        rs,
        vs,
        false,
        if stopping {
            "=> Shutting down <="
        } else {
            "=> Removing <="
        },
    )
}

/// The mail for a virtual server's quorum change; `body` is the quorum line.
pub fn virtual_server(router_id: Option<&str>, vs: &str, up: bool, body: &str) -> Alert {
    let state = if up { "UP" } else { "DOWN" };
    alert(
        format!("{}Virtualserver {vs} - {state}", prefix(router_id)),
        body,
    )
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, usize, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, usize::try_from(month - 1).unwrap_or(0), day)
}

/// An RFC 5322 date (`Sun, 22 Nov 2026 21:23:33 +0100`) for `unix_secs` seconds since the
/// epoch, shown in the zone `offset_secs` east of UTC, as keepalived's `%a, %d %b %Y %H:%M:%S %z`.
pub fn rfc5322_date(unix_secs: i64, offset_secs: i32) -> String {
    let local = unix_secs + i64::from(offset_secs);
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = usize::try_from(days.rem_euclid(7)).unwrap_or(0);
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let off = offset_secs.unsigned_abs() / 60;
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} {}{:02}{:02}",
        DAYS.get(weekday).unwrap_or(&"Thu"),
        day,
        MONTHS.get(month).unwrap_or(&"Jan"),
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        sign,
        off / 60,
        off % 60
    )
}

/// The date of `now` in the local zone (UTC when the zone cannot be known safely, e.g. in a
/// multi-threaded test process).
pub fn date_now(now: SystemTime) -> String {
    let secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let offset = time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| time::UtcOffset::local_offset_at(t).ok())
        .map_or(0, time::UtcOffset::whole_seconds);
    rfc5322_date(secs, offset)
}

/// Appends `text` with every line ending made CRLF and every line starting with `.`
/// dot-stuffed (RFC 5321 4.5.2); a trailing line end is not added.
fn push_stuffed(out: &mut Vec<u8>, text: &str) {
    let mut first = true;
    for line in text.split('\n') {
        if !first {
            out.extend_from_slice(b"\r\n");
        }
        first = false;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('.') {
            out.push(b'.');
        }
        // A bare CR is not allowed in SMTP text.
        out.extend(line.bytes().map(|b| if b == b'\r' { b' ' } else { b }));
    }
}

/// A header value on one line: line breaks become spaces (no header injection).
fn header_value(v: &str) -> String {
    v.chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

/// What follows the `354`: keepalived's headers, a blank line, the body, a blank line and
/// the terminating `.` line, all CRLF, dot-stuffed.
pub fn data_section(date: &str, from: &str, to: &[String], alert: &Alert) -> Vec<u8> {
    let mut headers = String::new();
    let _ = write!(
        headers,
        "Date: {}\nFrom: {}\nSubject: {}\nX-Mailer: Keepalived\nTo: {}\n\n",
        header_value(date),
        header_value(from),
        header_value(&alert.subject),
        header_value(&to.join(", "))
    );
    let mut out = Vec::with_capacity(headers.len() + alert.body.len() + 16);
    push_stuffed(&mut out, &headers);
    push_stuffed(&mut out, &alert.body);
    out.extend_from_slice(b"\r\n\r\n.\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn instance_texts() {
        let a = vrrp_instance(Some("LVS_1"), "VI_1", AlertState::Master);
        assert_eq!(
            a.subject,
            "[LVS_1] VRRP Instance VI_1 - Entering MASTER state"
        );
        assert_eq!(a.body, "=> VRRP Instance is now owning VRRP VIPs <=");
        let b = vrrp_instance(Some("r"), "VI_1", AlertState::Backup);
        assert_eq!(b.subject, "[r] VRRP Instance VI_1 - Entering BACKUP state");
        assert_eq!(b.body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let f = vrrp_instance(Some("r"), "VI_1", AlertState::Fault);
        assert_eq!(f.subject, "[r] VRRP Instance VI_1 - Entering FAULT state");
        let s = vrrp_instance(Some("r"), "VI_1", AlertState::Stop);
        assert_eq!(s.subject, "[r] VRRP Instance VI_1 - Stopping");
        assert_eq!(s.body, "=> VRRP Instance stopping <=");
        let d = vrrp_instance(None, "VI_1", AlertState::Deleted);
        assert_eq!(d.subject, "VRRP Instance VI_1 - Deleted");
        assert_eq!(d.body, "=> VRRP Deleted at reload <=");
    }

    #[test]
    fn group_texts() {
        let a = vrrp_group(Some("r"), "G", AlertState::Master).unwrap();
        assert_eq!(a.subject, "[r] VRRP Group G - Entering MASTER state");
        assert_eq!(
            a.body,
            "=> All VRRP group instances are now in MASTER state <="
        );
        let s = vrrp_group(Some("r"), "G", AlertState::Stop).unwrap();
        assert_eq!(s.subject, "[r] VRRP Group G - Stopping");
        assert_eq!(s.body, "=> All VRRP group instances are now stopping <=");
        assert!(vrrp_group(Some("r"), "G", AlertState::Deleted).is_none());
    }

    #[test]
    fn checker_texts() {
        let rs = service_trio("192.0.2.10:80".parse().unwrap(), Protocol::Tcp);
        let vs = service_trio("[2001:db8::1]:443".parse().unwrap(), Protocol::Tcp);
        assert_eq!(rs, "[192.0.2.10]:tcp:80");
        assert_eq!(vs, "[2001:db8::1]:tcp:443");
        let a = real_server(
            Some("r"),
            &rs,
            &vs,
            false,
            "=> TCP CHECK failed on service <=",
        );
        assert_eq!(
            a.subject,
            "[r] Realserver [192.0.2.10]:tcp:80 of virtual server [2001:db8::1]:tcp:443 - DOWN"
        );
        let b = real_server_removed(Some("r"), &rs, "FWM 3", true);
        assert_eq!(
            b.subject,
            "[r] Realserver [192.0.2.10]:tcp:80 of virtual server FWM 3 - DOWN"
        );
        assert_eq!(b.body, "=> Shutting down <=");
        let v = virtual_server(Some("r"), "FWM 3", true, "=> Gained quorum <=");
        assert_eq!(v.subject, "[r] Virtualserver FWM 3 - UP");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // 2021-03-01 09:44:08 UTC, keepalived's own example.
        assert_eq!(
            rfc5322_date(1_614_591_848, 0),
            "Mon, 01 Mar 2021 09:44:08 +0000"
        );
        assert_eq!(
            rfc5322_date(1_614_591_848, 3600 + 1800),
            "Mon, 01 Mar 2021 11:14:08 +0130"
        );
        assert_eq!(
            rfc5322_date(1_614_591_848, -5 * 3600),
            "Mon, 01 Mar 2021 04:44:08 -0500"
        );
        // Leap day and a year end.
        assert_eq!(
            rfc5322_date(951_782_400, 0),
            "Tue, 29 Feb 2000 00:00:00 +0000"
        );
        assert_eq!(
            rfc5322_date(1_798_761_599, 0),
            "Thu, 31 Dec 2026 23:59:59 +0000"
        );
        assert!(date_now(SystemTime::now()).len() >= 31);
    }

    #[test]
    fn data_section_layout() {
        let a = vrrp_instance(Some("r"), "VI_1", AlertState::Master);
        let d = data_section(
            "Mon, 01 Mar 2021 09:44:08 +0000",
            "ka@example.org",
            &["a@example.org".into(), "b@example.org".into()],
            &a,
        );
        assert_eq!(
            String::from_utf8(d).unwrap(),
            "Date: Mon, 01 Mar 2021 09:44:08 +0000\r\nFrom: ka@example.org\r\n\
             Subject: [r] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
             To: a@example.org, b@example.org\r\n\r\n\
             => VRRP Instance is now owning VRRP VIPs <=\r\n\r\n.\r\n"
        );
    }

    #[test]
    fn dot_stuffing_and_line_ends() {
        let a = Alert {
            subject: "s\r\nBcc: x".into(),
            body: ".one\nt.wo\r\n.\n..x".into(),
        };
        let d = String::from_utf8(data_section("D", "f", &[], &a)).unwrap();
        assert!(d.contains("Subject: s  Bcc: x\r\n"));
        assert!(d.ends_with("\r\n\r\n..one\r\nt.wo\r\n..\r\n...x\r\n\r\n.\r\n"));
    }

    #[test]
    fn truncation_like_keepalived() {
        let long = "x".repeat(600);
        let a = vrrp_instance(Some(&long), "VI", AlertState::Master);
        assert_eq!(a.subject.len(), MAX_SUBJECT);
        let b = real_server(None, "a", "b", true, &"é".repeat(400));
        assert!(b.body.len() <= MAX_BODY);
    }

    proptest! {
        #[test]
        fn data_section_is_well_formed(subject in ".{0,300}", body in ".{0,600}") {
            let a = Alert { subject, body };
            let d = data_section("D", "f", &["t".into()], &a);
            // Every LF is part of a CRLF, and the only line that is a lone dot is the last.
            for (i, b) in d.iter().enumerate() {
                if *b == b'\n' {
                    prop_assert!(i > 0 && d[i - 1] == b'\r');
                }
            }
            let text = String::from_utf8_lossy(&d).into_owned();
            let lines: Vec<&str> = text.split("\r\n").collect();
            let dots = lines.iter().filter(|l| **l == ".").count();
            prop_assert_eq!(dots, 1);
            prop_assert!(text.ends_with("\r\n.\r\n"));
        }
    }
}
