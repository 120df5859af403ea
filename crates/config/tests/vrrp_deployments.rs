//! Typical VRRP deployments, written for this test: each must load cleanly (exit 0) and
//! produce the model an operator expects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::model::vrrp::{AuthType, InitialState};
use keepalived_config::{exit_code, load_str, AssumeAll, Config, LoadOptions, Severity};
use std::net::IpAddr;
use std::time::Duration;

fn load_ok(text: &str) -> Config {
    let l = load_str("deploy.conf", text, &LoadOptions::default(), &AssumeAll);
    let problems: Vec<String> = l
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning && d.class.exit_code() != 0)
        .map(|d| d.render(&l.sources))
        .collect();
    assert_eq!(exit_code(&l.diagnostics), 0, "{}", problems.join("\n"));
    l.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn haproxy_pair_with_unicast_and_health_script() {
    let c = load_ok(
        r#"
global_defs {
    router_id lb1
    enable_script_security
    script_user root
    vrrp_garp_master_delay 1
    vrrp_garp_master_refresh 60
}

vrrp_script chk_haproxy {
    script "/usr/bin/killall -0 haproxy"
    interval 2
    timeout 1
    fall 2
    rise 3
    weight -20
}

vrrp_instance VI_WEB {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    nopreempt
    unicast_src_ip 192.168.1.10
    unicast_peer {
        192.168.1.11
    }
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        192.168.1.100/24 dev eth0 label eth0:vip
    }
    track_script {
        chk_haproxy
    }
    notify_master "/etc/keepalived/notify.sh MASTER"
    notify_backup "/etc/keepalived/notify.sh BACKUP"
}
"#,
    );
    assert_eq!(c.global.router_id.as_deref(), Some("lb1"));
    assert_eq!(c.global.vrrp_garp_master_delay, Duration::from_secs(1));
    assert_eq!(c.global.vrrp_garp_master_refresh, Duration::from_secs(60));
    let s = &c.vrrp_scripts[0];
    assert_eq!(
        s.script.as_ref().unwrap().argv,
        ["/usr/bin/killall", "-0", "haproxy"]
    );
    assert_eq!(
        (s.interval, s.effective_timeout()),
        (Duration::from_secs(2), Duration::from_secs(1))
    );
    assert_eq!((s.fall, s.rise, s.weight), (2, 3, -20));
    let v = &c.vrrp_instances[0];
    assert!(v.nopreempt);
    assert_eq!(v.state, Some(InitialState::Backup));
    assert_eq!(v.priority, Some(150));
    assert_eq!(v.src_ip, Some(ip("192.168.1.10")));
    assert_eq!(v.unicast_peers.len(), 1);
    assert_eq!(v.unicast_peers[0].addr, ip("192.168.1.11"));
    let auth = v.authentication.as_ref().unwrap();
    assert_eq!(auth.auth_type, Some(AuthType::Pass));
    assert_eq!(auth.auth_pass.as_deref(), Some("s3cret"));
    let vip = &v.virtual_ipaddress[0];
    assert_eq!((vip.addr, vip.prefix), (ip("192.168.1.100"), 24));
    assert_eq!(vip.dev.as_deref(), Some("eth0"));
    assert_eq!(v.track.scripts[0].name, "chk_haproxy");
    assert_eq!(
        v.notify.master.as_ref().unwrap().argv,
        ["/etc/keepalived/notify.sh", "MASTER"]
    );
    assert_eq!(v.version, Some(2));
}

#[test]
fn ipv6_vrrpv3_with_fast_adverts() {
    let c = load_ok(
        r#"
vrrp_instance V6 {
    interface eth1
    virtual_router_id 60
    priority 200
    advert_int 0.5
    virtual_ipaddress {
        fe80::60/64
        2001:db8::60/64
    }
    virtual_ipaddress_excluded {
        10.0.60.1/24
    }
}
"#,
    );
    let v = &c.vrrp_instances[0];
    assert!(v.is_ipv6());
    assert_eq!(v.version, Some(3));
    assert_eq!(v.advert_int, Duration::from_millis(500));
    assert_eq!(v.virtual_ipaddress.len(), 2);
    assert_eq!(v.virtual_ipaddress_excluded[0].addr, ip("10.0.60.1"));
    assert_eq!(v.state, Some(InitialState::Backup));
}

#[test]
fn sync_group_of_two_instances_with_routes() {
    let c = load_ok(
        r#"
global_defs {
    enable_script_security
    script_user root
}

vrrp_sync_group ROUTER {
    group {
        VI_OUT
        VI_IN
    }
    notify "/usr/local/bin/keepalived-state"
}

vrrp_instance VI_OUT {
    interface eth0
    virtual_router_id 10
    priority 120
    virtual_ipaddress {
        203.0.113.1/24
    }
    virtual_routes {
        0.0.0.0/0 via 203.0.113.254 dev eth0
    }
}

vrrp_instance VI_IN {
    interface eth1
    virtual_router_id 11
    priority 120
    virtual_ipaddress {
        10.0.0.1/24
    }
    virtual_rules {
        from 10.0.0.0/24 table 100 priority 100
    }
}
"#,
    );
    let g = &c.sync_groups[0];
    assert_eq!(g.group, ["VI_OUT", "VI_IN"]);
    assert_eq!(
        g.notify.generic.as_ref().unwrap().argv,
        ["/usr/local/bin/keepalived-state"]
    );
    let out = &c.vrrp_instances[0];
    assert_eq!(out.virtual_routes[0].words[0], "0.0.0.0/0");
    assert_eq!(c.vrrp_instances[1].virtual_rules.len(), 1);
}

#[test]
fn strict_owner_with_tracking() {
    let c = load_ok(
        r#"
global_defs {
    vrrp_strict
    vrrp_version 3
}

track_file maintenance {
    file /run/keepalived/maintenance
    weight 0
}

vrrp_instance OWNER {
    state MASTER
    interface eth0
    virtual_router_id 1
    priority 255
    virtual_ipaddress {
        192.0.2.1/24
    }
    track_interface {
        eth1
    }
    track_file {
        maintenance
    }
}
"#,
    );
    let v = &c.vrrp_instances[0];
    assert_eq!(v.priority, Some(255));
    assert_eq!(v.accept, Some(true));
    assert_eq!(v.version, Some(3));
    assert_eq!(v.track.interfaces[0].name, "eth1");
    assert_eq!(
        c.track_files[0].file.as_deref(),
        Some("/run/keepalived/maintenance")
    );
    assert_eq!(c.track_files[0].weight, 0);
}

#[test]
fn model_round_trips_through_serde() {
    let c = load_ok(
        "vrrp_instance V {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n 10.7.0.1\n }\n}\n",
    );
    let json = serde_json::to_string(&c).unwrap();
    let back: Config = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
}
