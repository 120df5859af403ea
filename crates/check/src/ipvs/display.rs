//! `ipvsadm`-style text of commands (`-A -t 10.0.0.1:80 -s rr`), for logs and recorder tests.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::{
    Dest, DestKey, Family, FwdMethod, IpvsCommand, Protocol, Service, ServiceKey, TunnelKind,
    SVC_F_ONEPACKET, SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, TUN_FLAG_CSUM,
    TUN_FLAG_REMCSUM,
};

/// `addr:port`, IPv6 in brackets (`[2001:db8::1]:80`).
struct HostPort(IpAddr, u16);

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

impl fmt::Display for ServiceKey {
    /// `-t 10.0.0.1:80`, `-u …`, `--sctp-service …`, `-f 1` (`-f 1 -6` for IPv6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Fwmark { family, mark } => {
                write!(f, "-f {mark}")?;
                if *family == Family::V6 {
                    write!(f, " -6")?;
                }
                Ok(())
            }
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                let opt = match protocol {
                    Protocol::Tcp => "-t",
                    Protocol::Udp => "-u",
                    Protocol::Sctp => "--sctp-service",
                };
                write!(f, "{opt} {}", HostPort(*addr, *port))
            }
        }
    }
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "-r {}", HostPort(self.addr, self.port))
    }
}

/// The options after the key: scheduler, persistence, netmask, flags, engine.
fn service_options(f: &mut fmt::Formatter<'_>, svc: &Service) -> fmt::Result {
    write!(f, " -s {}", svc.scheduler)?;
    if svc.flags & SVC_F_PERSISTENT != 0 {
        write!(f, " -p {}", svc.timeout)?;
        match svc.key.family() {
            Family::V4 if svc.netmask != 0xffff_ffff => {
                write!(f, " -M {}", Ipv4Addr::from(svc.netmask))?
            }
            Family::V6 if svc.netmask != 128 => write!(f, " -M {}", svc.netmask)?,
            _ => {}
        }
    }
    if svc.flags & SVC_F_ONEPACKET != 0 {
        write!(f, " -o")?;
    }
    let sched_flags: Vec<&str> = [
        (SVC_F_SCHED1, "flag-1"),
        (SVC_F_SCHED2, "flag-2"),
        (SVC_F_SCHED3, "flag-3"),
    ]
    .iter()
    .filter(|(bit, _)| svc.flags & bit != 0)
    .map(|(_, name)| *name)
    .collect();
    if !sched_flags.is_empty() {
        write!(f, " -b {}", sched_flags.join(","))?;
    }
    if let Some(pe) = &svc.pe_name {
        write!(f, " --pe {pe}")?;
    }
    Ok(())
}

/// The options after `-r`: method, weight, thresholds.
fn dest_options(f: &mut fmt::Formatter<'_>, dest: &Dest) -> fmt::Result {
    match dest.fwd {
        FwdMethod::Masq => write!(f, " -m")?,
        FwdMethod::Route => write!(f, " -g")?,
        FwdMethod::Tunnel { kind, csum } => {
            write!(f, " -i")?;
            match kind {
                TunnelKind::Ipip => {}
                TunnelKind::Gue { port } => write!(f, " --tun-type gue --tun-port {port}")?,
                TunnelKind::Gre => write!(f, " --tun-type gre")?,
            }
            match csum {
                TUN_FLAG_CSUM => write!(f, " --tun-csum")?,
                TUN_FLAG_REMCSUM => write!(f, " --tun-remcsum")?,
                _ => {}
            }
        }
    }
    write!(f, " -w {}", dest.weight)?;
    if dest.u_thresh != 0 {
        write!(f, " -x {}", dest.u_thresh)?;
    }
    if dest.l_thresh != 0 {
        write!(f, " -y {}", dest.l_thresh)?;
    }
    Ok(())
}

impl fmt::Display for IpvsCommand {
    /// `ipvsadm` arguments: `-A -t 10.0.0.1:80 -s rr`, `-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1`,
    /// `-E …`, `-e …`, `-D -t …`, `-d -t … -r …`, `-C`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpvsCommand::AddService(svc) => {
                write!(f, "-A {}", svc.key)?;
                service_options(f, svc)
            }
            IpvsCommand::EditService(svc) => {
                write!(f, "-E {}", svc.key)?;
                service_options(f, svc)
            }
            IpvsCommand::DelService(key) => write!(f, "-D {key}"),
            IpvsCommand::AddDest(key, dest) => {
                write!(f, "-a {key} {}", dest.key())?;
                dest_options(f, dest)
            }
            IpvsCommand::EditDest(key, dest) => {
                write!(f, "-e {key} {}", dest.key())?;
                dest_options(f, dest)
            }
            IpvsCommand::DelDest(key, dest) => write!(f, "-d {key} {dest}"),
            IpvsCommand::Flush => write!(f, "-C"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn tcp80() -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("10.0.0.1"),
            port: 80,
        }
    }

    #[test]
    fn service_commands_read_like_ipvsadm() {
        let svc = Service::new(tcp80(), "rr");
        assert_eq!(
            IpvsCommand::AddService(svc.clone()).to_string(),
            "-A -t 10.0.0.1:80 -s rr"
        );
        let mut p = svc.with_persistence(300);
        p.netmask = 0xffff_ff00;
        p.flags |= SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_ONEPACKET;
        p.pe_name = Some("sip".into());
        assert_eq!(
            IpvsCommand::EditService(p).to_string(),
            "-E -t 10.0.0.1:80 -s rr -p 300 -M 255.255.255.0 -o -b flag-1,flag-2 --pe sip"
        );
        assert_eq!(
            IpvsCommand::DelService(tcp80()).to_string(),
            "-D -t 10.0.0.1:80"
        );
        let udp6 = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("2001:db8::1"),
            port: 53,
        };
        assert_eq!(
            IpvsCommand::AddService(Service::new(udp6, "wlc").with_persistence(60)).to_string(),
            "-A -u [2001:db8::1]:53 -s wlc -p 60"
        );
        let fw6 = ServiceKey::Fwmark {
            family: Family::V6,
            mark: 7,
        };
        assert_eq!(IpvsCommand::DelService(fw6).to_string(), "-D -f 7 -6");
        let sctp = ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: ip("10.0.0.1"),
            port: 9,
        };
        assert_eq!(
            IpvsCommand::DelService(sctp).to_string(),
            "-D --sctp-service 10.0.0.1:9"
        );
        assert_eq!(IpvsCommand::Flush.to_string(), "-C");
    }

    #[test]
    fn dest_commands_read_like_ipvsadm() {
        let d = Dest::new(ip("10.0.0.2"), 80, 1, FwdMethod::Masq);
        assert_eq!(
            IpvsCommand::AddDest(tcp80(), d).to_string(),
            "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1"
        );
        let mut g = Dest::new(ip("10.0.0.3"), 8080, 0, FwdMethod::Route);
        g.u_thresh = 100;
        g.l_thresh = 10;
        assert_eq!(
            IpvsCommand::EditDest(tcp80(), g).to_string(),
            "-e -t 10.0.0.1:80 -r 10.0.0.3:8080 -g -w 0 -x 100 -y 10"
        );
        let t = Dest::new(
            ip("2001:db8::2"),
            80,
            5,
            FwdMethod::Tunnel {
                kind: TunnelKind::Gue { port: 6080 },
                csum: TUN_FLAG_CSUM,
            },
        );
        let fw = ServiceKey::Fwmark {
            family: Family::V4,
            mark: 1,
        };
        assert_eq!(
            IpvsCommand::AddDest(fw, t).to_string(),
            "-a -f 1 -r [2001:db8::2]:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 5"
        );
        assert_eq!(
            IpvsCommand::DelDest(tcp80(), d.key()).to_string(),
            "-d -t 10.0.0.1:80 -r 10.0.0.2:80"
        );
    }
}
