//! Where a connecting checker connects from and to: `connect_ip`/`connect_port` default to the
//! real server, `bindto`/`bind_port` to nothing (`check_api.c`).

use keepalived_config::model::lvs::{ConnectOptions, RealServer, VirtualServer};
use std::net::{IpAddr, SocketAddr};

/// The resolved endpoints of one checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// Where to connect.
    pub dst: SocketAddr,
    /// What to bind the socket to first (`bindto` and/or `bind_port`), if anything.
    pub src: Option<SocketAddr>,
    /// `SO_MARK` for the socket.
    pub fwmark: Option<u32>,
}

impl Endpoints {
    /// Resolves `co` for a checker of real server `rs` in `vs`.
    pub fn resolve(co: &ConnectOptions, rs: &RealServer, vs: &VirtualServer) -> Self {
        let ip = co.connect_ip.unwrap_or(rs.ip);
        let port = co.connect_port.unwrap_or_else(|| {
            // The checker talks to the server itself, so a fwmark/DR service's "no port" is
            // the configured one.
            if rs.port != 0 {
                rs.port
            } else {
                rs.effective_port(vs)
            }
        });
        let dst = SocketAddr::new(ip, port);
        let src = match (co.bindto, co.bind_port) {
            (None, None) => None,
            (Some(b), p) => Some(SocketAddr::new(b, p.unwrap_or(0))),
            (None, Some(p)) => Some(SocketAddr::new(unspecified(&ip), p)),
        };
        Self {
            dst,
            src,
            fwmark: co.fwmark,
        }
    }
}

fn unspecified(like: &IpAddr) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::model::lvs::VirtualServerKey;

    #[test]
    fn defaults_and_overrides() {
        let vs = VirtualServer {
            key: VirtualServerKey::Address {
                ip: "10.0.0.1".parse().unwrap(),
                port: 80,
            },
            ..VirtualServer::default()
        };
        let rs = RealServer::new("10.0.0.2".parse().unwrap(), 0);
        let mut co = ConnectOptions::default();
        let e = Endpoints::resolve(&co, &rs, &vs);
        assert_eq!(e.dst, "10.0.0.2:80".parse().unwrap());
        assert_eq!(e.src, None);
        co.connect_ip = Some("127.0.0.5".parse().unwrap());
        co.connect_port = Some(9000);
        co.bind_port = Some(1234);
        let e = Endpoints::resolve(&co, &rs, &vs);
        assert_eq!(e.dst, "127.0.0.5:9000".parse().unwrap());
        assert_eq!(e.src, Some("0.0.0.0:1234".parse().unwrap()));
        co.bindto = Some("127.0.0.1".parse().unwrap());
        let e = Endpoints::resolve(&co, &rs, &vs);
        assert_eq!(e.src, Some("127.0.0.1:1234".parse().unwrap()));
    }
}
