//! Small formatters shared by the dump files: keepalived prints times with `ctime`, floats
//! with C's `%g`, commands as quoted words and addresses in `ip addr` style.

use keepalived_config::model::{Broadcast, Script, VirtualAddress};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Collects the lines of a dump; every line ends with a newline, as `conf_write` writes them.
#[derive(Debug, Default)]
pub struct Lines {
    text: String,
}

impl Lines {
    /// Appends one line.
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    /// The text written so far.
    pub fn into_text(self) -> String {
        self.text
    }
}

/// Seconds and microseconds since the Unix epoch (0 for times before it).
pub fn unix_parts(t: SystemTime) -> (u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    (d.as_secs(), d.subsec_micros())
}

/// keepalived's `SECS.USECS (Www Mmm dd hh:mm:ss.uuuuuu yyyy)`; the calendar part is UTC
/// (keepalived uses the local time zone; the child has no time zone database).
pub fn timestamp(t: SystemTime) -> String {
    let (secs, usecs) = unix_parts(t);
    format!("{secs}.{usecs:06} ({})", ctime_us(secs, usecs))
}

/// `ctime` with microseconds inserted after the seconds, in UTC.
pub use keepalived_sys::time_fmt::ctime_us;

/// C's `printf("%g", x)`: six significant digits, trailing zeros removed, exponent form
/// below 1e-4 and from 1e6.
pub fn g(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    // The exponent after rounding to six significant digits.
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = usize::try_from(5 - exp).unwrap_or(0);
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A duration in whole seconds, as keepalived divides by `TIMER_HZ`.
pub fn secs(d: Duration) -> u64 {
    d.as_secs()
}

/// A duration in seconds as a float.
pub fn secs_f(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// keepalived's `cmd_str`: every word in single quotes, separated by spaces; a first word
/// starting with `<` or `>` (a bare redirection) is left unquoted.
pub fn cmd_str(script: &Script) -> String {
    let mut out = String::new();
    for (i, arg) in script.argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if i == 0 && (arg.starts_with('<') || arg.starts_with('>')) {
            out.push_str(arg);
        } else {
            let _ = write!(out, "'{arg}'");
        }
    }
    out
}

/// An address with its prefix, the prefix omitted for a host address (/32, /128).
pub fn addr_prefix(addr: IpAddr, prefix: u8) -> String {
    let host = if addr.is_ipv4() { 32 } else { 128 };
    if prefix == host {
        addr.to_string()
    } else {
        format!("{addr}/{prefix}")
    }
}

/// The name of an rtnetlink scope number, as `/etc/iproute2/rt_scopes` has them.
pub fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

/// A configured scope (a name or a number) as keepalived prints it back.
fn configured_scope(scope: Option<&str>) -> String {
    match scope {
        None => "global".into(),
        Some(s) => match s.parse::<u8>() {
            Ok(n) => scope_name(n),
            Err(_) => match s {
                "universe" => "global".into(),
                other => other.into(),
            },
        },
    }
}

/// `brd +` and `brd -` resolved for an IPv4 address; `None` when there is no broadcast.
fn broadcast_of(va: &VirtualAddress) -> Option<Ipv4Addr> {
    let IpAddr::V4(a) = va.addr else { return None };
    let host_bits = 32u32.saturating_sub(u32::from(va.prefix));
    let mask = if host_bits >= 32 {
        0
    } else {
        u32::MAX << host_bits
    };
    let b = match va.broadcast? {
        Broadcast::Plus => Ipv4Addr::from(u32::from(a) | !mask),
        Broadcast::Minus => Ipv4Addr::from(u32::from(a) & mask),
        Broadcast::Addr(IpAddr::V4(b)) => b,
        Broadcast::Addr(IpAddr::V6(_)) => return None,
    };
    (!b.is_unspecified()).then_some(b)
}

/// keepalived's `format_ipaddress`: `ADDR[/LEN] [brd B] dev IF scope S [label L] [peer P]
/// [home] [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [track_group G]
/// [preferred_lft ...] [set]`. `set` says the address is installed (the instance is MASTER).
pub fn vip(va: &VirtualAddress, dev: &str, set: bool) -> String {
    let mut s = addr_prefix(va.addr, va.prefix);
    if let Some(b) = broadcast_of(va) {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {dev}");
    if va.use_vmac {
        s.push_str(" use_vmac");
    }
    let _ = write!(s, " scope {}", configured_scope(va.scope.as_deref()));
    if let Some(label) = &va.label {
        let _ = write!(s, " label {label}");
    }
    if let Some(peer) = va.peer {
        let _ = write!(s, " peer {peer}/{}", va.prefix);
    }
    for (on, word) in [
        (va.home, " home"),
        (va.nodad, " -nodad"),
        (va.mngtmpaddr, " mngtmpaddr"),
        (va.noprefixroute, " noprefixroute"),
        (va.autojoin, " autojoin"),
        (va.no_track, " no_track"),
    ] {
        if on {
            s.push_str(word);
        }
    }
    if let Some(g) = &va.track_group {
        let _ = write!(s, " track_group {g}");
    }
    if va.addr.is_ipv6() {
        // keepalived's default: a /128 is added deprecated, anything else forever.
        match va.preferred_lft {
            Some(0) => s.push_str(" deprecated"),
            Some(n) => {
                let _ = write!(s, " preferred_lft {n}");
            }
            None if va.prefix == 128 => s.push_str(" deprecated"),
            None => s.push_str(" preferred_lft forever"),
        }
    }
    if set {
        s.push_str(" set");
    }
    s
}

/// `true`/`false`.
pub fn tf(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `yes`/`no`.
pub fn yn(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `enabled`/`disabled`.
pub fn ed(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_matches_sample() {
        // From /work/shared/samples/keepalived.data (the lab ran in UTC).
        assert_eq!(
            timestamp(UNIX_EPOCH + Duration::from_micros(1_795_369_830_337_136)),
            "1795369830.337136 (Sun Nov 22 17:50:30.337136 2026)"
        );
        assert_eq!(ctime_us(0, 0), "Thu Jan  1 00:00:00.000000 1970");
        assert_eq!(ctime_us(951_782_400, 5), "Tue Feb 29 00:00:00.000005 2000");
    }

    #[test]
    fn percent_g() {
        assert_eq!(g(5.0), "5");
        assert_eq!(g(1.0), "1");
        assert_eq!(g(0.5), "0.5");
        assert_eq!(g(0.01), "0.01");
        assert_eq!(g(2.25), "2.25");
        assert_eq!(g(123456.0), "123456");
        assert_eq!(g(1_795_369_830.337_136), "1.79537e+09");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(0.0), "0");
    }

    #[test]
    fn cmd_quoting() {
        let s = Script {
            argv: vec!["/usr/bin/test".into(), "-e".into(), "/tmp/x".into()],
            ..Script::default()
        };
        assert_eq!(cmd_str(&s), "'/usr/bin/test' '-e' '/tmp/x'");
        let s = Script {
            argv: vec!["</dev/tcp/127.0.0.1/80".into()],
            ..Script::default()
        };
        assert_eq!(cmd_str(&s), "</dev/tcp/127.0.0.1/80");
    }

    #[test]
    fn vip_lines() {
        let mut va = VirtualAddress::new("10.213.0.100".parse().unwrap());
        va.prefix = 24;
        assert_eq!(
            vip(&va, "eth0", true),
            "10.213.0.100/24 dev eth0 scope global set"
        );
        va.broadcast = Some(Broadcast::Plus);
        va.label = Some("eth0:1".into());
        va.scope = Some("253".into());
        assert_eq!(
            vip(&va, "eth0", false),
            "10.213.0.100/24 brd 10.213.0.255 dev eth0 scope link label eth0:1"
        );
        let v6 = VirtualAddress::new("2001:db8::1".parse().unwrap());
        assert_eq!(
            vip(&v6, "eth0", false),
            "2001:db8::1 dev eth0 scope global deprecated"
        );
    }
}
