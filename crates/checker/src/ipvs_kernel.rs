//! The kernel's IPVS table as an [`IpvsSink`]: the pure commands of `keepalived_check::ipvs`
//! turned into generic-netlink requests (`keepalived_sys::ipvs`).
//!
//! [`open_sink`] gives the kernel sink, or, on a kernel without IPVS, logs one error and gives
//! a [`LoggingSink`]: keepalived exits there, we keep the health checks, notifies and states
//! useful and log what would have been programmed.

use keepalived_check::ipvs::{
    Dest, DestKey, FwdMethod, IpvsCommand, IpvsError, IpvsSink, LoggingSink, Service, ServiceKey,
    TunnelKind,
};
use keepalived_sys::ipvs::{
    DestId, DestSpec, Ipvs, IpvsRequest, IpvsSysError, ServiceId, ServiceSpec, TunnelSpec,
};

/// The kernel's IPVS table.
///
/// It aims at the state the command describes, as keepalived does: adding what is already there
/// (left by a previous run with `-I`) edits it instead, and deleting what is already gone
/// succeeds.
#[derive(Debug)]
pub struct KernelIpvs {
    ipvs: Ipvs,
}

impl KernelIpvs {
    /// Opens the IPVS generic-netlink family.
    pub fn open() -> Result<Self, IpvsSysError> {
        Ok(KernelIpvs {
            ipvs: Ipvs::open()?,
        })
    }

    fn send(&mut self, req: &IpvsRequest) -> Result<(), IpvsSysError> {
        self.ipvs.send(req)
    }
}

impl IpvsSink for KernelIpvs {
    fn apply(&mut self, cmd: &IpvsCommand) -> Result<(), IpvsError> {
        let req = to_request(cmd);
        let result = match self.send(&req) {
            Err(e) if e.errno() == Some(libc::EEXIST) => match as_edit(&req) {
                Some(edit) => {
                    log::debug!("IPVS {cmd}: already there, editing it");
                    self.send(&edit)
                }
                None => Err(e),
            },
            Err(e)
                if is_delete(&req)
                    && matches!(e.errno(), Some(libc::ESRCH) | Some(libc::ENOENT)) =>
            {
                log::debug!("IPVS {cmd}: already gone");
                Ok(())
            }
            other => other,
        };
        result.map_err(|e| to_ipvs_error(cmd, &e))
    }
}

/// The kernel sink, or (no IPVS in this kernel, or it cannot be reached) a [`LoggingSink`]
/// after one error line.
pub fn open_sink() -> Box<dyn IpvsSink> {
    choose_sink(KernelIpvs::open())
}

fn choose_sink(opened: Result<KernelIpvs, IpvsSysError>) -> Box<dyn IpvsSink> {
    match opened {
        Ok(kernel) => Box::new(kernel),
        Err(IpvsSysError::NotAvailable { reason }) => {
            log::error!(
                "IPVS: no kernel support ({reason}): health checks and notifies keep running, \
                 nothing is programmed"
            );
            Box::new(LoggingSink::new())
        }
        Err(e) => {
            log::error!(
                "IPVS: cannot be used ({e}): health checks and notifies keep running, \
                 nothing is programmed"
            );
            Box::new(LoggingSink::new())
        }
    }
}

fn to_ipvs_error(cmd: &IpvsCommand, e: &IpvsSysError) -> IpvsError {
    let command = cmd.to_string();
    match e.errno() {
        Some(libc::EEXIST) => IpvsError::Exists { command },
        Some(libc::ESRCH) | Some(libc::ENOENT) => IpvsError::NotFound { command },
        errno => IpvsError::Failed {
            command,
            reason: e.to_string(),
            errno,
        },
    }
}

/// The SET request with the same content as a NEW one.
fn as_edit(req: &IpvsRequest) -> Option<IpvsRequest> {
    match req {
        IpvsRequest::NewService(s) => Some(IpvsRequest::SetService(s.clone())),
        IpvsRequest::NewDest(id, d) => Some(IpvsRequest::SetDest(*id, *d)),
        _ => None,
    }
}

fn is_delete(req: &IpvsRequest) -> bool {
    matches!(req, IpvsRequest::DelService(_) | IpvsRequest::DelDest(..))
}

/// The netlink request for a command.
pub fn to_request(cmd: &IpvsCommand) -> IpvsRequest {
    match cmd {
        IpvsCommand::AddService(s) => IpvsRequest::NewService(service_spec(s)),
        IpvsCommand::EditService(s) => IpvsRequest::SetService(service_spec(s)),
        IpvsCommand::DelService(k) => IpvsRequest::DelService(service_id(k)),
        IpvsCommand::AddDest(k, d) => IpvsRequest::NewDest(service_id(k), dest_spec(d)),
        IpvsCommand::EditDest(k, d) => IpvsRequest::SetDest(service_id(k), dest_spec(d)),
        IpvsCommand::DelDest(k, d) => IpvsRequest::DelDest(service_id(k), dest_id(d)),
        IpvsCommand::Flush => IpvsRequest::Flush,
    }
}

fn service_id(key: &ServiceKey) -> ServiceId {
    match key {
        ServiceKey::Fwmark { family, mark } => ServiceId::Fwmark {
            af: family.af(),
            mark: *mark,
        },
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => ServiceId::Addr {
            protocol: protocol.number(),
            addr: *addr,
            port: *port,
        },
    }
}

fn service_spec(s: &Service) -> ServiceSpec {
    ServiceSpec {
        id: service_id(&s.key),
        scheduler: s.scheduler.clone(),
        pe_name: s.pe_name.clone(),
        flags: s.flags,
        timeout: s.timeout,
        netmask: s.netmask,
    }
}

fn dest_id(d: &DestKey) -> DestId {
    DestId {
        addr: d.addr,
        port: d.port,
    }
}

fn dest_spec(d: &Dest) -> DestSpec {
    let tunnel = match d.fwd {
        // Plain IPIP without checksum options: leave the attributes out so kernels before
        // 5.3, which do not know them, take the request too.
        FwdMethod::Tunnel {
            kind: TunnelKind::Ipip,
            csum: 0,
        } => None,
        FwdMethod::Tunnel { kind, csum } => Some(TunnelSpec {
            kind: kind.number(),
            port: match kind {
                TunnelKind::Gue { port } => port,
                _ => 0,
            },
            flags: csum,
        }),
        FwdMethod::Masq | FwdMethod::Route => None,
    };
    DestSpec {
        addr: d.addr,
        port: d.port,
        fwd_method: d.fwd.number(),
        weight: d.weight,
        u_thresh: d.u_thresh,
        l_thresh: d.l_thresh,
        tunnel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_check::ipvs::{Family, Protocol, TUN_FLAG_CSUM};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn vip() -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("10.0.0.1"),
            port: 80,
        }
    }

    #[test]
    fn commands_map_to_requests_with_kernel_numbers() {
        let svc = Service::new(vip(), "rr").with_persistence(300);
        assert_eq!(
            to_request(&IpvsCommand::AddService(svc)),
            IpvsRequest::NewService(ServiceSpec {
                id: ServiceId::Addr {
                    protocol: 6,
                    addr: ip("10.0.0.1"),
                    port: 80
                },
                scheduler: "rr".into(),
                pe_name: None,
                flags: 1,
                timeout: 300,
                netmask: 0xffff_ffff,
            })
        );
        let fw = ServiceKey::Fwmark {
            family: Family::V6,
            mark: 3,
        };
        assert_eq!(
            to_request(&IpvsCommand::DelService(fw)),
            IpvsRequest::DelService(ServiceId::Fwmark { af: 10, mark: 3 })
        );
        let d = Dest::new(ip("10.0.0.2"), 80, 0, FwdMethod::Route);
        assert_eq!(
            to_request(&IpvsCommand::EditDest(vip(), d)),
            IpvsRequest::SetDest(
                service_id(&vip()),
                DestSpec {
                    addr: ip("10.0.0.2"),
                    port: 80,
                    fwd_method: 3,
                    weight: 0,
                    u_thresh: 0,
                    l_thresh: 0,
                    tunnel: None
                }
            )
        );
        let t = Dest::new(
            ip("10.0.0.3"),
            80,
            1,
            FwdMethod::Tunnel {
                kind: TunnelKind::Gue { port: 6080 },
                csum: TUN_FLAG_CSUM,
            },
        );
        let IpvsRequest::NewDest(_, spec) = to_request(&IpvsCommand::AddDest(vip(), t)) else {
            panic!("not a NewDest");
        };
        assert_eq!(spec.fwd_method, 2);
        assert_eq!(
            spec.tunnel,
            Some(TunnelSpec {
                kind: 1,
                port: 6080,
                flags: 1
            })
        );
        assert_eq!(to_request(&IpvsCommand::Flush), IpvsRequest::Flush);
        assert_eq!(
            as_edit(&IpvsRequest::NewDest(service_id(&vip()), spec)),
            Some(IpvsRequest::SetDest(service_id(&vip()), spec))
        );
    }

    #[test]
    fn not_available_gives_the_logging_sink() {
        let mut sink = choose_sink(Err(IpvsSysError::NotAvailable {
            reason: "test".into(),
        }));
        assert!(sink.apply(&IpvsCommand::Flush).is_ok());
    }

    /// On this machine's kernel (no IPVS) the sink opens and accepts commands.
    #[test]
    fn open_sink_here_keeps_running() {
        if std::path::Path::new("/proc/net/ip_vs").exists() {
            return; // A kernel with IPVS: programming it needs root and a namespace.
        }
        let mut sink = open_sink();
        let cmd = IpvsCommand::AddService(Service::new(vip(), "rr"));
        assert!(sink.apply(&cmd).is_ok());
    }
}
