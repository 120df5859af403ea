//! Realistic LVS configurations: each loads without a counted diagnostic and gives the
//! expected model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::model::lvs::*;
use keepalived_config::{load_str, AssumeAll, Config, ConfigClass, LoadOptions};
use std::net::IpAddr;
use std::time::Duration;

/// Loads `text`, failing on any diagnostic that would change keepalived's exit code.
fn load_ok(text: &str) -> Config {
    let l = load_str("lvs.conf", text, &LoadOptions::default(), &AssumeAll);
    let bad: Vec<String> = l
        .diagnostics
        .iter()
        .filter(|d| d.class != ConfigClass::Ok)
        .map(|d| d.render(&l.sources))
        .collect();
    assert!(bad.is_empty(), "unexpected diagnostics:\n{}", bad.join(""));
    l.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(s: u64) -> Option<Duration> {
    Some(Duration::from_secs(s))
}

#[test]
fn dr_with_http_get() {
    let c = load_ok(
        r#"
virtual_server 192.168.10.100 80 {
    delay_loop 6
    lb_algo wrr
    lb_kind DR
    protocol TCP
    persistence_timeout 300

    real_server 192.168.10.11 80 {
        weight 3
        HTTP_GET {
            url {
                path /health
                status_code 200 204 300-302
            }
            url {
                path /index.html
                digest 9b3a0c85a887a256d6939da88aabd8cd
                virtualhost www.example.com
            }
            http_protocol 1.1
            connect_timeout 3
            retry 2
            delay_before_retry 1.5
        }
    }
    real_server 192.168.10.12 80 {
        weight 1
        HTTP_GET {
            url {
                path /health
            }
        }
    }
}
"#,
    );
    assert_eq!(c.virtual_servers.len(), 1);
    let vs = &c.virtual_servers[0];
    assert_eq!(
        vs.key,
        VirtualServerKey::Address {
            ip: ip("192.168.10.100"),
            port: 80
        }
    );
    assert_eq!(vs.delay_loop, secs(6));
    assert_eq!(vs.scheduler, Some(Scheduler::Wrr));
    assert_eq!(vs.method, Some(ForwardingMethod::Dr));
    assert_eq!(vs.protocol, Some(LvsProtocol::Tcp));
    assert_eq!(vs.persistence_timeout, Some(300));
    assert_eq!(vs.ip_family, Some(IpFamily::Inet));
    assert_eq!(vs.real_servers.len(), 2);
    let rs = &vs.real_servers[0];
    assert_eq!(
        (rs.ip, rs.port, rs.weight),
        (ip("192.168.10.11"), 80, Some(3))
    );
    let Checker::Http(h) = &rs.checkers[0] else {
        panic!("expected HTTP_GET")
    };
    assert_eq!(h.urls.len(), 2);
    assert_eq!(h.urls[0].path, "/health");
    assert_eq!(
        h.urls[0].status_codes,
        vec![
            StatusCodeRange {
                low: 200,
                high: 200
            },
            StatusCodeRange {
                low: 204,
                high: 204
            },
            StatusCodeRange {
                low: 300,
                high: 302
            }
        ]
    );
    assert_eq!(
        h.urls[1].digest,
        Some([
            0x9b, 0x3a, 0x0c, 0x85, 0xa8, 0x87, 0xa2, 0x56, 0xd6, 0x93, 0x9d, 0xa8, 0x8a, 0xab,
            0xd8, 0xcd
        ])
    );
    assert_eq!(h.urls[1].virtualhost.as_deref(), Some("www.example.com"));
    assert_eq!(
        h.urls[1].effective_status_codes(),
        vec![StatusCodeRange::DEFAULT]
    );
    assert_eq!(h.http_protocol, Some(HttpProtocol::Http11));
    assert_eq!(h.connect.connect_timeout, secs(3));
    assert_eq!(h.common.retry, Some(2));
    assert_eq!(
        h.common.delay_before_retry,
        Some(Duration::from_millis(1500))
    );
    // Inherited values.
    let chk = &rs.checkers[0];
    assert_eq!(chk.effective_delay_loop(rs, vs), Duration::from_secs(6));
    assert_eq!(chk.effective_retry(rs, vs), 2);
    let rs2 = &vs.real_servers[1];
    let chk2 = &rs2.checkers[0];
    assert_eq!(chk2.effective_retry(rs2, vs), 1);
    assert_eq!(
        chk2.effective_delay_before_retry(rs2, vs),
        Duration::from_secs(3)
    );
    assert_eq!(
        chk2.effective_connect_timeout(rs2, vs),
        Duration::from_secs(5)
    );
}

#[test]
fn nat_with_tcp_check() {
    let c = load_ok(
        r#"
virtual_server 10.20.0.1 3306 {
    delay_loop 10
    lvs_sched lc
    lvs_method NAT
    protocol TCP
    connect_timeout 4
    retry 3
    delay_before_retry 2
    inhibit_on_failure

    real_server 172.16.0.11 3306 {
        weight 10
        TCP_CHECK {
            connect_port 3307
            bindto 172.16.0.1
            bind_port 40000
            connect_timeout 2
        }
    }
    real_server 172.16.0.12 3306 {
        weight 10
        inhibit_on_failure off
        uthreshold 1000
        lthreshold 100
        TCP_CHECK {
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.method, Some(ForwardingMethod::Nat));
    assert_eq!(vs.scheduler, Some(Scheduler::Lc));
    assert!(vs.inhibit_on_failure);
    assert_eq!(vs.connect_timeout, secs(4));
    let rs = &vs.real_servers[0];
    let Checker::Tcp(t) = &rs.checkers[0] else {
        panic!("expected TCP_CHECK")
    };
    assert_eq!(t.connect.connect_port, Some(3307));
    assert_eq!(t.connect.bindto, Some(ip("172.16.0.1")));
    assert_eq!(t.connect.bind_port, Some(40000));
    assert_eq!(t.connect.connect_timeout, secs(2));
    let rs2 = &vs.real_servers[1];
    assert_eq!(rs2.inhibit_on_failure, Some(false));
    assert_eq!((rs2.uthreshold, rs2.lthreshold), (Some(1000), Some(100)));
    let chk = &rs2.checkers[0];
    assert_eq!(
        chk.effective_connect_timeout(rs2, vs),
        Duration::from_secs(4)
    );
    assert_eq!(chk.effective_retry(rs2, vs), 3);
    assert_eq!(
        chk.effective_delay_before_retry(rs2, vs),
        Duration::from_secs(2)
    );
}

#[test]
fn ssl_get_with_digest_and_ssl_block() {
    let c = load_ok(
        r#"
SSL {
    password secret
    ca /etc/keepalived/ca.pem
    certificate /etc/keepalived/client.pem
    key /etc/keepalived/client.key
}

virtual_server 10.0.0.50 443 {
    delay_loop 15
    lb_algo rr
    lb_kind DR
    protocol TCP

    real_server 10.0.0.51 443 {
        SSL_GET {
            url {
                path /status
                digest 00112233445566778899AABBCCDDEEFF
                status_code 200
            }
            enable_sni
            fast_recovery on
            connect_timeout 5
        }
    }
}
"#,
    );
    let ssl = c.ssl.as_ref().unwrap();
    assert_eq!(ssl.password.as_deref(), Some("secret"));
    assert_eq!(ssl.ca.as_deref(), Some("/etc/keepalived/ca.pem"));
    assert_eq!(
        ssl.certificate.as_deref(),
        Some("/etc/keepalived/client.pem")
    );
    assert_eq!(ssl.key.as_deref(), Some("/etc/keepalived/client.key"));
    let Checker::Ssl(s) = &c.virtual_servers[0].real_servers[0].checkers[0] else {
        panic!("expected SSL_GET")
    };
    assert_eq!(
        s.urls[0].digest,
        Some([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff
        ])
    );
    assert_eq!(s.enable_sni, Some(true));
    assert_eq!(s.fast_recovery, Some(true));
}

#[test]
fn misc_check_with_misc_dynamic() {
    let c = load_ok(
        r#"
global_defs {
    enable_script_security
    script_user nobody
}

virtual_server 10.1.1.1 25 {
    lvs_sched wlc
    lvs_method DR
    protocol TCP
    real_server 10.1.1.2 25 {
        MISC_CHECK {
            misc_path "/usr/local/bin/check_mail.sh 10.1.1.2 'with space'"
            misc_timeout 8
            misc_dynamic
            user mail mail
            retry 2
        }
    }
}
"#,
    );
    let rs = &c.virtual_servers[0].real_servers[0];
    let Checker::Misc(m) = &rs.checkers[0] else {
        panic!("expected MISC_CHECK")
    };
    let p = m.path.as_ref().unwrap();
    assert_eq!(
        p.command,
        "/usr/local/bin/check_mail.sh 10.1.1.2 'with space'"
    );
    assert_eq!(
        p.argv,
        vec!["/usr/local/bin/check_mail.sh", "10.1.1.2", "with space"]
    );
    let u = p.user.as_ref().unwrap();
    assert_eq!(
        (u.user.as_str(), u.group.as_deref()),
        ("mail", Some("mail"))
    );
    assert_eq!(m.timeout, secs(8));
    assert!(m.dynamic);
    assert_eq!(m.common.retry, Some(2));
    // Without a retry, MISC_CHECK defaults to 0.
    let plain = Checker::Misc(MiscCheck::default());
    assert_eq!(plain.effective_retry(rs, &c.virtual_servers[0]), 0);
}

#[test]
fn fwmark_service() {
    let c = load_ok(
        r#"
virtual_server fwmark 100 {
    delay_loop 5
    lvs_sched sh
    sh-port
    sh-fallback
    lvs_method DR
    persistence_timeout
    real_server 10.2.0.1 {
        weight 2
        TCP_CHECK {
            connect_port 443
        }
    }
    real_server 10.2.0.2 {
        weight 2
        PING_CHECK {
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.key, VirtualServerKey::Fwmark(100));
    assert_eq!(vs.persistence_timeout, Some(360));
    assert_eq!(vs.scheduler, Some(Scheduler::Sh));
    assert!(vs.flags.flag_1 && vs.flags.flag_2 && !vs.flags.flag_3);
    // The family comes from the real servers.
    assert_eq!(vs.ip_family, Some(IpFamily::Inet));
    assert_eq!(vs.real_servers[0].port, 0);
    assert!(matches!(vs.real_servers[1].checkers[0], Checker::Ping(_)));
}

#[test]
fn virtual_server_group_with_ranges() {
    let c = load_ok(
        r#"
virtual_server_group web {
    10.0.0.1-10 80
    10.0.1.0/30 80
    10.0.2.1-10.0.2.20 80
    10.0.3.7 80
    fwmark 7 inet
}

virtual_server group web {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.9.0.1 80 {
        TCP_CHECK {
        }
    }
}
"#,
    );
    let g = &c.virtual_server_groups[0];
    assert_eq!(g.name, "web");
    assert_eq!(
        g.members,
        vec![
            VsgMember::Range {
                first: ip("10.0.0.1"),
                last: ip("10.0.0.10"),
                port: Some(80)
            },
            VsgMember::Range {
                first: ip("10.0.1.0"),
                last: ip("10.0.1.3"),
                port: Some(80)
            },
            VsgMember::Range {
                first: ip("10.0.2.1"),
                last: ip("10.0.2.20"),
                port: Some(80)
            },
            VsgMember::Address {
                ip: ip("10.0.3.7"),
                port: Some(80)
            },
            VsgMember::Fwmark {
                mark: 7,
                family: Some(IpFamily::Inet)
            },
        ]
    );
    assert_eq!(
        c.virtual_servers[0].key,
        VirtualServerKey::Group("web".into())
    );
}

#[test]
fn sorry_server_and_quorum() {
    let c = load_ok(
        r#"
global_defs {
    enable_script_security
}

virtual_server 10.3.0.1 8080 {
    delay_loop 3
    lvs_sched wlc
    lvs_method NAT
    protocol TCP
    quorum 3
    hysteresis 1
    quorum_up "/usr/local/bin/vs_up.sh 10.3.0.1" root
    quorum_down /usr/local/bin/vs_down.sh
    alpha
    omega
    sorry_server 192.168.200.200 8080
    sorry_server_inhibit

    real_server 10.3.0.2 8080 {
        weight 2
        notify_up "/usr/local/bin/rs.sh up"
        notify_down "/usr/local/bin/rs.sh down"
        TCP_CHECK {
        }
    }
    real_server 10.3.0.3 8080 {
        weight 2
        TCP_CHECK {
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    assert_eq!((vs.quorum, vs.hysteresis), (Some(3), Some(1)));
    assert!(vs.alpha && vs.omega);
    let up = vs.quorum_up.as_ref().unwrap();
    assert_eq!(up.argv, vec!["/usr/local/bin/vs_up.sh", "10.3.0.1"]);
    assert_eq!(up.user.as_ref().map(|u| u.user.as_str()), Some("root"));
    assert_eq!(
        vs.quorum_down.as_ref().unwrap().argv,
        vec!["/usr/local/bin/vs_down.sh"]
    );
    let ss = vs.sorry_server.as_ref().unwrap();
    assert_eq!(
        (ss.ip, ss.port, ss.inhibit),
        (ip("192.168.200.200"), 8080, true)
    );
    let rs = &vs.real_servers[0];
    assert_eq!(
        rs.notify_up.as_ref().unwrap().argv,
        vec!["/usr/local/bin/rs.sh", "up"]
    );
    assert_eq!(
        rs.notify_down.as_ref().unwrap().argv,
        vec!["/usr/local/bin/rs.sh", "down"]
    );
    assert!(rs.checkers[0].effective_alpha(rs, vs));
}

#[test]
fn smtp_check() {
    let c = load_ok(
        r#"
virtual_server 10.4.0.1 25 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.4.0.2 25 {
        SMTP_CHECK {
            helo_name lb.example.com
            connect_timeout 10
            retry 2
            host {
                connect_ip 10.4.0.3
                connect_port 2525
                delay_before_retry 7
            }
        }
    }
}
"#,
    );
    let Checker::Smtp(s) = &c.virtual_servers[0].real_servers[0].checkers[0] else {
        panic!("expected SMTP_CHECK")
    };
    assert_eq!(s.helo_name.as_deref(), Some("lb.example.com"));
    assert_eq!(s.connect.connect_timeout, secs(10));
    assert_eq!(s.hosts.len(), 1);
    assert_eq!(s.hosts[0].connect.connect_ip, Some(ip("10.4.0.3")));
    assert_eq!(s.hosts[0].connect.connect_port, Some(2525));
    // Common keywords in a host block set the checker's values, as in keepalived.
    assert_eq!(s.common.delay_before_retry, secs(7));
    assert_eq!(s.common.retry, Some(2));
}

#[test]
fn dns_check() {
    let c = load_ok(
        r#"
virtual_server 10.5.0.53 53 {
    lvs_sched rr
    lvs_method DR
    protocol UDP
    real_server 10.5.0.1 53 {
        DNS_CHECK {
            type A
            name www.example.com
            connect_timeout 2
        }
    }
    real_server 10.5.0.2 53 {
        DNS_CHECK {
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    let Checker::Dns(d) = &vs.real_servers[0].checkers[0] else {
        panic!("expected DNS_CHECK")
    };
    assert_eq!(d.query_type, Some(DnsType::A));
    assert_eq!(d.name.as_deref(), Some("www.example.com"));
    let rs2 = &vs.real_servers[1];
    let Checker::Dns(d2) = &rs2.checkers[0] else {
        panic!("expected DNS_CHECK")
    };
    assert_eq!(d2.query_type, None);
    assert_eq!(rs2.checkers[0].effective_retry(rs2, vs), 3);
}

#[test]
fn udp_check_with_ops() {
    let c = load_ok(
        r#"
virtual_server 10.6.0.1 5060 {
    lvs_sched rr
    lvs_method NAT
    protocol UDP
    ops
    real_server 10.6.0.2 5060 {
        UDP_CHECK {
            payload 4f 50 54 49 4f 4e 53
            require_reply 53 49 50 XX
            min_reply_length 4
            max_reply_length 1400
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    assert!(vs.flags.one_packet);
    let Checker::Udp(u) = &vs.real_servers[0].checkers[0] else {
        panic!("expected UDP_CHECK")
    };
    assert_eq!(u.payload.as_deref(), Some(&b"OPTIONS"[..]));
    assert_eq!(u.require_reply, Some(Some("53 49 50 XX".into())));
    assert_eq!(
        (u.min_reply_length, u.max_reply_length),
        (Some(4), Some(1400))
    );
}

#[test]
fn ipv6_with_ping_check() {
    let c = load_ok(
        r#"
virtual_server 2001:db8::100 443 {
    lvs_sched wrr
    lvs_method DR
    protocol TCP
    real_server 2001:db8::11 443 {
        PING_CHECK {
            delay_loop 2
        }
    }
    real_server fe80::11 443 {
        PING_CHECK {
            bind_if eth1
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.ip_family, Some(IpFamily::Inet6));
    assert_eq!(vs.real_servers.len(), 2);
    let Checker::Ping(p) = &vs.real_servers[1].checkers[0] else {
        panic!("expected PING_CHECK")
    };
    assert_eq!(p.connect.bind_if.as_deref(), Some("eth1"));
}

#[test]
fn file_check_with_track_file() {
    let c = load_ok(
        r#"
track_file maint {
    file /var/run/lb/maint
    weight 1
}

virtual_server 10.7.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.7.0.2 80 {
        weight 5
        FILE_CHECK {
            track_file maint
            weight -5 reverse
        }
        TCP_CHECK {
        }
    }
}
"#,
    );
    let rs = &c.virtual_servers[0].real_servers[0];
    assert_eq!(rs.checkers.len(), 2);
    let Checker::File(f) = &rs.checkers[0] else {
        panic!("expected FILE_CHECK")
    };
    assert_eq!(f.track_file.as_deref(), Some("maint"));
    assert_eq!((f.weight, f.reverse), (Some(-5), true));
}

#[test]
fn tunnel_forwarding_and_bfd_check() {
    let c = load_ok(
        r#"
bfd_instance rs1 {
    neighbor_ip 10.8.0.2
}

virtual_server 10.8.0.1 80 {
    lvs_sched mh
    mh-port
    lvs_method TUN type gue port 6080 csum
    protocol TCP
    real_server 10.8.0.2 80 {
        BFD_CHECK {
            name rs1
        }
    }
    real_server 10.8.0.3 80 {
        lvs_method TUN type gre
        TCP_CHECK {
        }
    }
}
"#,
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(
        vs.method,
        Some(ForwardingMethod::Tun(TunnelOptions {
            kind: TunnelType::Gue { port: 6080 },
            checksum: TunnelChecksum::Csum
        }))
    );
    assert!(vs.flags.flag_2);
    let Checker::Bfd(b) = &vs.real_servers[0].checkers[0] else {
        panic!("expected BFD_CHECK")
    };
    assert_eq!(b.name.as_deref(), Some("rs1"));
    assert_eq!(
        vs.real_servers[1].method,
        Some(ForwardingMethod::Tun(TunnelOptions {
            kind: TunnelType::Gre,
            checksum: TunnelChecksum::NoCsum
        }))
    );
}

#[test]
fn model_round_trips_through_serde() {
    let c = load_ok(
        r#"
virtual_server 10.9.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.9.0.2 80 {
        HTTP_GET {
            url {
                path /
            }
        }
    }
}
"#,
    );
    let json = serde_json::to_string(&c.virtual_servers).unwrap();
    let back: Vec<VirtualServer> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c.virtual_servers);
}
