//! Typical keepalived deployments (`tests/configs/good/*.conf`, written for this test suite):
//! each loads without an error-class diagnostic, with exit code 0, and gives the model the
//! config is about.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{exit_code, load, FileMeta, Host, LoadOptions, Loaded, Severity};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A host with interfaces eth0, eth1, bond0 and lo, users root and nobody, and the real
/// file system for script checks.
struct TestHost;

impl Host for TestHost {
    fn interface_exists(&self, name: &str) -> bool {
        matches!(name, "eth0" | "eth1" | "bond0" | "lo")
    }
    fn user_exists(&self, name: &str) -> bool {
        self.user_uid(name).is_some()
    }
    fn group_exists(&self, name: &str) -> bool {
        matches!(name, "root" | "0" | "nogroup" | "65534")
    }
    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        let m = std::fs::metadata(path).ok()?;
        let mode = m.permissions().mode() & 0o7777;
        Some(FileMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode,
            is_dir: m.is_dir(),
            executable: m.is_file() && mode & 0o111 != 0,
        })
    }
    fn resolves(&self, host: &str) -> bool {
        host.parse::<std::net::IpAddr>().is_ok() || host == "localhost"
    }
    fn user_uid(&self, name: &str) -> Option<u32> {
        match name {
            "root" | "0" => Some(0),
            "nobody" | "65534" => Some(65534),
            _ => None,
        }
    }
}

fn path_of(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs/good")
        .join(name)
}

fn render_all(l: &Loaded) -> String {
    l.diagnostics
        .iter()
        .map(|d| d.render(&l.sources))
        .collect::<Vec<_>>()
        .join("")
}

/// Loads a good config with config id `id`; fails (naming the file) on an error or a
/// non-zero exit code.
fn load_good_as(name: &str, id: &str) -> Loaded {
    let opts = LoadOptions {
        config_id: id.to_string(),
    };
    let l = load(&path_of(name), &opts, &TestHost);
    let errors = l
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    assert!(
        errors == 0 && exit_code(&l.diagnostics) == 0,
        "{name}: expected a clean load, got exit code {} and:\n{}",
        exit_code(&l.diagnostics),
        render_all(&l)
    );
    l
}

fn load_good(name: &str) -> Loaded {
    load_good_as(name, "testhost")
}

/// Every config in `tests/configs/good/` has its own test in this file.
#[test]
fn every_good_config_has_a_test() {
    let this_file = include_str!("deployments.rs");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/good");
    let untested: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".conf") && !this_file.contains(&format!("\"{n}\"")))
        .collect();
    assert!(untested.is_empty(), "configs without a test: {untested:?}");
}

#[test]
fn every_good_config_loads_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/good");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.ends_with(".conf").then_some(n)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} good configs", names.len());
    let mut failures = Vec::new();
    for n in &names {
        let id = if n == "conditional_id.conf" {
            "lb1"
        } else {
            "testhost"
        };
        let l = load(
            &path_of(n),
            &LoadOptions {
                config_id: id.into(),
            },
            &TestHost,
        );
        let code = exit_code(&l.diagnostics);
        let errors = l.diagnostics.iter().any(|d| d.severity == Severity::Error);
        if code != 0 || errors {
            failures.push(format!("== {n}: exit {code}\n{}", render_all(&l)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Per-deployment facts.

use keepalived_config::model::lvs::{
    Checker, ForwardingMethod, LvsProtocol, PersistenceGranularity, Scheduler, StatusCodeRange,
    VirtualServer, VirtualServerKey, VsgMember,
};
use keepalived_config::model::vrrp::{AuthType, InitialState};
use keepalived_config::model::{Broadcast, VrrpInstance};
use keepalived_config::Config;
use std::net::IpAddr;
use std::time::Duration;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn inst<'a>(c: &'a Config, name: &str) -> &'a VrrpInstance {
    c.vrrp_instances
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no vrrp_instance {name}"))
}

/// The instance's VIPs as `(address, prefix)`.
fn vips(i: &VrrpInstance) -> Vec<(IpAddr, u8)> {
    i.virtual_ipaddress
        .iter()
        .map(|a| (a.addr, a.prefix))
        .collect()
}

fn excluded(i: &VrrpInstance) -> Vec<(IpAddr, u8)> {
    i.virtual_ipaddress_excluded
        .iter()
        .map(|a| (a.addr, a.prefix))
        .collect()
}

/// The essentials of an instance: VRID, effective priority, effective state, interface.
fn basics(i: &VrrpInstance) -> (u8, u8, InitialState, &str) {
    (
        i.virtual_router_id.unwrap(),
        i.effective_priority(),
        i.effective_state(),
        i.interface.as_deref().unwrap_or(""),
    )
}

fn vs_at<'a>(c: &'a Config, addr: &str, port: u16) -> &'a VirtualServer {
    let key = VirtualServerKey::Address { ip: ip(addr), port };
    c.virtual_servers
        .iter()
        .find(|v| v.key == key)
        .unwrap_or_else(|| panic!("no virtual_server {addr} {port}"))
}

/// Real servers as `(ip, port, weight)`.
fn reals(vs: &VirtualServer) -> Vec<(IpAddr, u16, u32)> {
    vs.real_servers
        .iter()
        .map(|r| (r.ip, r.port, r.effective_weight(vs)))
        .collect()
}

use InitialState::{Backup, Master};

#[test]
fn lvs_dr_http_get() {
    let c = load_good("lvs_dr_http_get.conf").config;
    assert_eq!(c.global.router_id.as_deref(), Some("LB_WEB_1"));
    let i = inst(&c, "VI_WEB");
    assert_eq!(basics(i), (51, 150, Master, "eth0"));
    assert_eq!(i.advert_int, secs(1));
    assert_eq!(vips(i), vec![(ip("192.168.1.100"), 24)]);
    let vs = vs_at(&c, "192.168.1.100", 80);
    assert_eq!(vs.delay_loop, Some(secs(10)));
    assert_eq!(vs.scheduler, Some(Scheduler::Wlc));
    assert_eq!(vs.method, Some(ForwardingMethod::Dr));
    assert_eq!(vs.protocol, Some(LvsProtocol::Tcp));
    assert_eq!(
        reals(vs),
        vec![
            (ip("192.168.1.21"), 80, 10),
            (ip("192.168.1.22"), 80, 10),
            (ip("192.168.1.23"), 80, 5)
        ]
    );
    let Checker::Http(h) = &vs.real_servers[0].checkers[0] else {
        panic!("expected HTTP_GET")
    };
    assert_eq!(h.urls.len(), 1);
    assert_eq!(h.urls[0].path, "/healthz");
    assert_eq!(
        h.urls[0].status_codes,
        vec![StatusCodeRange {
            low: 200,
            high: 200
        }]
    );
    assert_eq!(h.connect.connect_timeout, Some(secs(2)));
    assert_eq!(h.common.retry, Some(3));
    assert_eq!(h.common.delay_before_retry, Some(secs(2)));
    let Checker::Http(h3) = &vs.real_servers[2].checkers[0] else {
        panic!("expected HTTP_GET")
    };
    assert_eq!(h3.common.retry, None);
}

#[test]
fn lvs_nat_tcp_check() {
    let c = load_good("lvs_nat_tcp_check.conf").config;
    let i = inst(&c, "VI_DB");
    assert_eq!(basics(i), (60, 90, Backup, "eth1"));
    assert_eq!(i.virtual_ipaddress[0].dev.as_deref(), Some("eth1"));
    let vs = vs_at(&c, "10.0.0.50", 5432);
    assert_eq!(vs.scheduler, Some(Scheduler::Rr));
    assert_eq!(vs.effective_method(), ForwardingMethod::Nat);
    assert_eq!(vs.delay_loop, Some(secs(5)));
    assert_eq!(
        reals(vs),
        vec![(ip("10.0.0.61"), 5432, 1), (ip("10.0.0.62"), 5432, 1)]
    );
    for rs in &vs.real_servers {
        let Checker::Tcp(t) = &rs.checkers[0] else {
            panic!("expected TCP_CHECK")
        };
        assert_eq!(t.connect.connect_port, Some(5432));
        assert_eq!(t.connect.connect_timeout, Some(secs(3)));
    }
}

#[test]
fn ssl_get_digest() {
    let c = load_good("ssl_get_digest.conf").config;
    assert_eq!(basics(inst(&c, "VI_TLS")), (52, 200, Master, "eth0"));
    assert_eq!(vips(inst(&c, "VI_TLS")), vec![(ip("192.168.1.110"), 32)]);
    let vs = vs_at(&c, "192.168.1.110", 443);
    assert_eq!(vs.scheduler, Some(Scheduler::Sh));
    assert_eq!(vs.persistence_timeout, Some(600));
    assert_eq!(vs.real_servers.len(), 2);
    let Checker::Ssl(s) = &vs.real_servers[0].checkers[0] else {
        panic!("expected SSL_GET")
    };
    assert_eq!(s.urls[0].path, "/status.html");
    assert_eq!(
        s.urls[0].digest,
        Some([
            0x3b, 0x5d, 0x5c, 0x37, 0x12, 0x95, 0x50, 0x42, 0x21, 0x23, 0x16, 0x17, 0x3c, 0xcf,
            0x37, 0xbe
        ])
    );
    assert_eq!(
        s.urls[0].effective_status_codes(),
        vec![StatusCodeRange::DEFAULT]
    );
    assert_eq!(s.connect.connect_timeout, Some(secs(5)));
    assert_eq!(s.common.retry, Some(2));
    assert_eq!(s.common.delay_before_retry, Some(secs(3)));
}

#[test]
fn misc_check_dynamic() {
    let c = load_good("misc_check_dynamic.conf").config;
    assert!(c.global.enable_script_security);
    let vs = vs_at(&c, "192.168.1.120", 25);
    assert_eq!(vs.scheduler, Some(Scheduler::Wrr));
    assert_eq!(
        reals(vs),
        vec![(ip("192.168.1.41"), 25, 50), (ip("192.168.1.42"), 25, 50)]
    );
    let Checker::Misc(m) = &vs.real_servers[0].checkers[0] else {
        panic!("expected MISC_CHECK")
    };
    let script = m.path.as_ref().unwrap();
    assert_eq!(script.argv, vec!["/usr/bin/test", "-e", "/etc/hostname"]);
    assert_eq!(m.timeout, Some(secs(4)));
    assert!(m.dynamic);
    let Checker::Misc(m2) = &vs.real_servers[1].checkers[0] else {
        panic!("expected MISC_CHECK")
    };
    assert_eq!(m2.path.as_ref().unwrap().argv, vec!["/bin/true"]);
    assert!(m2.dynamic);
}

#[test]
fn haproxy_pair_master() {
    let c = load_good("haproxy_pair_master.conf").config;
    let s = &c.vrrp_scripts[0];
    assert_eq!(s.name, "chk_haproxy");
    assert_eq!(s.script.as_ref().unwrap().argv, vec!["/bin/true"]);
    assert_eq!(s.interval, secs(2));
    assert_eq!(s.effective_timeout(), secs(2));
    assert_eq!((s.weight, s.fall, s.rise), (2, 2, 2));
    let i = inst(&c, "VI_HAPROXY");
    assert_eq!(basics(i), (71, 101, Master, "eth0"));
    let auth = i.authentication.as_ref().unwrap();
    assert_eq!(auth.auth_type, Some(AuthType::Pass));
    assert_eq!(auth.auth_pass.as_deref(), Some("s3cr3t"));
    assert_eq!(i.track.scripts.len(), 1);
    assert_eq!(i.track.scripts[0].name, "chk_haproxy");
    assert_eq!(i.track.scripts[0].weight, None);
    assert_eq!(vips(i), vec![(ip("192.168.1.200"), 24)]);
}

#[test]
fn nginx_pair_backup() {
    let c = load_good("nginx_pair_backup.conf").config;
    let s = &c.vrrp_scripts[0];
    assert_eq!(s.name, "chk_nginx");
    assert_eq!(
        s.script.as_ref().unwrap().argv,
        vec!["/usr/bin/test", "-d", "/etc"]
    );
    assert_eq!(s.interval, secs(3));
    assert_eq!(s.timeout, Some(secs(2)));
    assert_eq!((s.weight, s.fall, s.rise), (-20, 3, 1));
    let i = inst(&c, "VI_NGINX");
    assert_eq!(basics(i), (72, 100, Backup, "eth0"));
    assert_eq!(i.track.scripts[0].name, "chk_nginx");
    assert!(!i.nopreempt);
}

#[test]
fn active_active() {
    let c = load_good("active_active.conf").config;
    assert_eq!(c.vrrp_instances.len(), 2);
    assert_eq!(basics(inst(&c, "VI_A")), (81, 150, Master, "eth0"));
    assert_eq!(basics(inst(&c, "VI_B")), (82, 100, Backup, "eth0"));
    assert_eq!(vips(inst(&c, "VI_A")), vec![(ip("192.168.1.81"), 24)]);
    assert_eq!(vips(inst(&c, "VI_B")), vec![(ip("192.168.1.82"), 24)]);
}

#[test]
fn unicast_peers() {
    let c = load_good("unicast_peers.conf").config;
    let i = inst(&c, "VI_UNICAST");
    assert_eq!(basics(i), (90, 120, Backup, "eth0"));
    assert!(i.unicast_configured);
    assert_eq!(i.src_ip, Some(ip("192.168.1.10")));
    assert_eq!(i.unicast_ttl, Some(10));
    let peers: Vec<_> = i
        .unicast_peers
        .iter()
        .map(|p| (p.addr, p.min_ttl, p.max_ttl))
        .collect();
    assert_eq!(
        peers,
        vec![
            (ip("192.168.1.11"), Some(250), Some(255)),
            (ip("192.168.1.12"), Some(245), None)
        ]
    );
}

#[test]
fn sync_group_notify() {
    let c = load_good("sync_group_notify.conf").config;
    let g = &c.sync_groups[0];
    assert_eq!(g.name, "VG_ROUTER");
    assert_eq!(g.group, vec!["VI_OUTSIDE", "VI_INSIDE"]);
    assert_eq!(
        g.notify.master.as_ref().unwrap().argv,
        vec!["/bin/true", "master"]
    );
    assert_eq!(
        g.notify.backup.as_ref().unwrap().argv,
        vec!["/bin/true", "backup"]
    );
    assert_eq!(
        g.notify.fault.as_ref().unwrap().argv,
        vec!["/bin/false", "fault"]
    );
    assert_eq!(g.notify.generic.as_ref().unwrap().argv, vec!["/bin/true"]);
    assert!(g.notify.stop.is_none());
    assert_eq!(basics(inst(&c, "VI_OUTSIDE")), (11, 200, Master, "eth0"));
    assert_eq!(basics(inst(&c, "VI_INSIDE")), (12, 200, Master, "eth1"));
}

#[test]
fn ipv6_vrrpv3() {
    let c = load_good("ipv6_vrrpv3.conf").config;
    let i = inst(&c, "VI_V6");
    assert_eq!(basics(i), (100, 200, Master, "eth0"));
    assert_eq!(i.version, Some(3));
    assert!(i.is_ipv6());
    assert_eq!(
        vips(i),
        vec![
            (ip("fe80::1:100"), 64),
            (ip("2001:db8:100::1"), 64),
            (ip("2001:db8:100::2"), 64)
        ]
    );
}

#[test]
fn vrrpv3_subsecond() {
    let c = load_good("vrrpv3_subsecond.conf").config;
    assert_eq!(c.global.vrrp_version, 3);
    let i = inst(&c, "VI_FAST");
    assert_eq!(basics(i), (33, 110, Backup, "bond0"));
    assert_eq!(i.advert_int, ms(100));
    // Validation resolves the global vrrp_version into the instance.
    assert_eq!(i.version, Some(3));
    assert_eq!(vips(i), vec![(ip("192.168.10.33"), 24)]);
}

#[test]
fn includes_glob() {
    let l = load_good("includes_glob.conf");
    let c = &l.config;
    assert_eq!(c.global.router_id.as_deref(), Some("split_conf"));
    let names: Vec<_> = c.vrrp_instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["VI_INC_WEB", "VI_INC_MAIL"]);
    assert_eq!(basics(inst(c, "VI_INC_WEB")), (121, 100, Backup, "eth0"));
    assert_eq!(basics(inst(c, "VI_INC_MAIL")), (122, 90, Backup, "eth0"));
    // Locations point into the fragment that holds the block.
    let loc = inst(c, "VI_INC_MAIL").loc.unwrap();
    assert!(l.sources.path(loc.file).ends_with("inc/20-mail.conf"));
    assert_eq!(loc.line, 2);
    assert_eq!(l.sources.files().len(), 3);
}

#[test]
fn conditional_id_on_lb1() {
    let c = load_good_as("conditional_id.conf", "lb1").config;
    let i = inst(&c, "VI_SHARED");
    assert_eq!(basics(i), (130, 150, Master, "eth0"));
}

#[test]
fn conditional_id_on_other_node() {
    let c = load_good_as("conditional_id.conf", "lb2").config;
    let i = inst(&c, "VI_SHARED");
    assert_eq!(basics(i), (130, 50, Backup, "eth0"));
    assert_eq!(vips(i), vec![(ip("192.168.1.130"), 24)]);
}

#[test]
fn defines() {
    let c = load_good("defines.conf").config;
    let i = inst(&c, "VI_DEF");
    assert_eq!(basics(i), (140, 160, Master, "eth0"));
    assert_eq!(
        vips(i),
        vec![(ip("192.168.1.140"), 24), (ip("192.168.1.141"), 24)]
    );
}

#[test]
fn seq_instances() {
    let c = load_good("seq_instances.conf").config;
    let got: Vec<_> = c
        .vrrp_instances
        .iter()
        .map(|i| (i.name.as_str(), i.virtual_router_id, vips(i)))
        .collect();
    let want: Vec<_> = (1..=4u8)
        .map(|n| {
            (
                ["VI_SEQ_1", "VI_SEQ_2", "VI_SEQ_3", "VI_SEQ_4"][usize::from(n - 1)],
                Some(150 + n),
                vec![(ip(&format!("10.0.0.15{n}")), 24)],
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn auth_pass() {
    let c = load_good("auth_pass.conf").config;
    let i = inst(&c, "VI_AUTH");
    assert_eq!(basics(i), (160, 100, Backup, "eth0"));
    let a = i.authentication.as_ref().unwrap();
    assert_eq!(a.auth_type, Some(AuthType::Pass));
    assert_eq!(a.auth_pass.as_deref(), Some("12345678"));
}

#[test]
fn use_vmac() {
    let c = load_good("use_vmac.conf").config;
    let i = inst(&c, "VI_VMAC");
    assert_eq!(basics(i), (170, 150, Master, "eth0"));
    assert_eq!(
        i.use_vmac.as_ref().unwrap().name.as_deref(),
        Some("vrrp170")
    );
    assert!(i.vmac_xmit_base);
}

#[test]
fn virtual_routes_rules() {
    let c = load_good("virtual_routes_rules.conf").config;
    let i = inst(&c, "VI_ROUTES");
    let routes: Vec<String> = i.virtual_routes.iter().map(|r| r.words.join(" ")).collect();
    assert_eq!(
        routes,
        vec![
            "10.20.0.0/16 via 192.168.1.254 dev eth0",
            "default via 192.168.1.254 dev eth0 table 100"
        ]
    );
    let rules: Vec<String> = i.virtual_rules.iter().map(|r| r.words.join(" ")).collect();
    assert_eq!(rules, vec!["from 192.168.1.180/32 table 100 priority 100"]);
}

#[test]
fn vip_options() {
    let c = load_good("vip_options.conf").config;
    let i = inst(&c, "VI_VIPOPT");
    let a = &i.virtual_ipaddress;
    assert_eq!(a.len(), 3);
    assert_eq!((a[0].addr, a[0].prefix), (ip("192.168.1.190"), 24));
    assert_eq!(a[0].broadcast, Some(Broadcast::Addr(ip("192.168.1.255"))));
    assert_eq!(a[0].dev.as_deref(), Some("eth0"));
    assert_eq!(a[0].scope.as_deref(), Some("global"));
    assert_eq!(a[0].label.as_deref(), Some("eth0:vip"));
    assert_eq!((a[1].addr, a[1].prefix), (ip("10.0.0.190"), 24));
    assert_eq!(a[1].dev.as_deref(), Some("eth1"));
    assert_eq!(a[1].label.as_deref(), Some("eth1:vip"));
    assert_eq!(a[1].broadcast, None);
    assert_eq!((a[2].addr, a[2].prefix), (ip("127.0.0.190"), 8));
    assert_eq!(a[2].dev.as_deref(), Some("lo"));
    assert_eq!(a[2].scope.as_deref(), Some("host"));
}

#[test]
fn vip_excluded() {
    let c = load_good("vip_excluded.conf").config;
    let i = inst(&c, "VI_EXCL");
    assert_eq!(vips(i), vec![(ip("192.168.1.200"), 24)]);
    assert_eq!(
        excluded(i),
        vec![
            (ip("192.168.1.201"), 24),
            (ip("192.168.1.202"), 24),
            (ip("10.0.0.203"), 24),
            (ip("2001:db8:200::1"), 64)
        ]
    );
    assert_eq!(i.virtual_ipaddress_excluded[2].dev.as_deref(), Some("eth1"));
    // Excluded addresses do not decide the advert family.
    assert!(!i.is_ipv6());
}

#[test]
fn track_interface_weights() {
    let c = load_good("track_interface_weights.conf").config;
    let i = inst(&c, "VI_TRACKIF");
    let t: Vec<_> = i
        .track
        .interfaces
        .iter()
        .map(|t| (t.name.as_str(), t.weight))
        .collect();
    assert_eq!(t, vec![("eth1", Some(-30)), ("bond0", Some(-60))]);
}

#[test]
fn track_file() {
    let c = load_good("track_file.conf").config;
    let f = &c.track_files[0];
    assert_eq!(f.name, "maint");
    assert_eq!(f.file.as_deref(), Some("/etc/hostname"));
    assert_eq!(f.weight, -10);
    let i = inst(&c, "VI_TRACKFILE");
    assert_eq!(i.track.files.len(), 1);
    assert_eq!(i.track.files[0].name, "maint");
    assert_eq!(i.track.files[0].weight, Some(5));
}

#[test]
fn notify_scripts() {
    let c = load_good("notify_scripts.conf").config;
    let i = inst(&c, "VI_NOTIFY");
    let n = &i.notify;
    assert_eq!(n.master.as_ref().unwrap().argv, vec!["/bin/true", "MASTER"]);
    assert_eq!(n.backup.as_ref().unwrap().argv, vec!["/bin/true", "BACKUP"]);
    assert_eq!(n.fault.as_ref().unwrap().argv, vec!["/bin/false", "FAULT"]);
    assert_eq!(n.stop.as_ref().unwrap().argv, vec!["/bin/true"]);
    assert_eq!(
        n.generic.as_ref().unwrap().argv,
        vec!["/usr/bin/test", "-n", "x"]
    );
    assert_eq!(n.scripts().count(), 5);
    assert_eq!(i.notify_priority_changes, Some(true));
    assert_eq!(
        c.global.script_user.as_ref().map(|u| u.user.as_str()),
        Some("root")
    );
}

#[test]
fn preempt_delay() {
    let c = load_good("preempt_delay.conf").config;
    let i = inst(&c, "VI_PDELAY");
    assert_eq!(basics(i), (240, 150, Backup, "eth0"));
    assert_eq!(i.preempt_delay, secs(300));
    assert!(!i.nopreempt);
}

#[test]
fn nopreempt() {
    let c = load_good("nopreempt.conf").config;
    let i = inst(&c, "VI_NOPREEMPT");
    assert_eq!(basics(i), (241, 150, Backup, "eth0"));
    assert!(i.nopreempt);
    assert_eq!(i.preempt_delay, Duration::ZERO);
}

#[test]
fn garp_settings() {
    let c = load_good("garp_settings.conf").config;
    let g = &c.global;
    assert_eq!(g.vrrp_garp_master_delay, secs(10));
    assert_eq!(g.vrrp_garp_master_repeat, 3);
    assert_eq!(g.vrrp_garp_master_refresh, secs(60));
    assert_eq!(g.vrrp_garp_master_refresh_repeat, 2);
    assert_eq!(g.vrrp_garp_interval, ms(1));
    assert_eq!(g.vrrp_gna_interval, ms(2));
    let i = inst(&c, "VI_GARP");
    assert_eq!(i.garp.master_delay, Some(secs(2)));
    assert_eq!(i.garp.master_repeat, Some(4));
    assert_eq!(i.garp.master_refresh, Some(secs(30)));
    assert_eq!(i.garp.lower_prio_repeat, Some(1));
    assert_eq!(i.garp.lower_prio_delay, None);
}

#[test]
fn global_defs_full() {
    let c = load_good("global_defs_full.conf").config;
    let g = &c.global;
    assert_eq!(
        g.notification_email,
        vec!["ops@example.com", "noc@example.com"]
    );
    assert_eq!(
        g.notification_email_from.as_deref(),
        Some("keepalived@lb1.example.com")
    );
    let smtp = g.smtp_server.as_ref().unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port), ("192.168.1.25", 587));
    assert_eq!(g.smtp_connect_timeout, secs(15));
    assert_eq!(g.smtp_helo_name.as_deref(), Some("lb1.example.com"));
    assert_eq!(g.router_id.as_deref(), Some("LB1"));
    assert_eq!(
        g.vrrp_mcast_group4,
        "224.0.0.20".parse::<std::net::Ipv4Addr>().unwrap()
    );
    assert_eq!(
        g.vrrp_mcast_group6,
        "ff02::20".parse::<std::net::Ipv6Addr>().unwrap()
    );
    let su = g.script_user.as_ref().unwrap();
    assert_eq!(
        (su.user.as_str(), su.group.as_deref()),
        ("nobody", Some("nogroup"))
    );
    assert!(g.enable_script_security);
    assert!(g.vrrp_skip_check_adv_addr);
    assert!(g.vrrp_check_unicast_src);
    let i = inst(&c, "VI_GLOBAL");
    assert_eq!(basics(i), (1, 100, Backup, "eth0"));
    assert_eq!(i.smtp_alert, Some(true));
}

#[test]
fn statics() {
    let c = load_good("statics.conf").config;
    let s = &c.statics;
    let addrs: Vec<_> = s
        .addresses
        .iter()
        .map(|a| (a.addr, a.prefix, a.dev.as_deref()))
        .collect();
    assert_eq!(
        addrs,
        vec![
            (ip("192.168.1.5"), 24, Some("eth0")),
            (ip("10.0.0.5"), 24, Some("eth1"))
        ]
    );
    assert_eq!(s.addresses[0].scope.as_deref(), Some("global"));
    let routes: Vec<String> = s.routes.iter().map(|r| r.words.join(" ")).collect();
    assert_eq!(
        routes,
        vec![
            "10.50.0.0/16 via 10.0.0.254 dev eth1",
            "172.16.0.0/12 dev eth1 table 200"
        ]
    );
    let rules: Vec<String> = s.rules.iter().map(|r| r.words.join(" ")).collect();
    assert_eq!(
        rules,
        vec![
            "from 10.0.0.5 table 200 priority 90",
            "to 172.16.0.0/12 table 200 priority 100"
        ]
    );
    // No state given and priority 100: BACKUP.
    assert_eq!(basics(inst(&c, "VI_STATIC")), (5, 100, Backup, "eth0"));
}

#[test]
fn vsg_ranges() {
    let c = load_good("vsg_ranges.conf").config;
    let g = &c.virtual_server_groups[0];
    assert_eq!(g.name, "WEBFARM");
    assert_eq!(
        g.members,
        vec![
            VsgMember::Range {
                first: ip("192.168.1.50"),
                last: ip("192.168.1.59"),
                port: Some(80)
            },
            VsgMember::Address {
                ip: ip("192.168.1.60"),
                port: Some(8080)
            },
            VsgMember::Range {
                first: ip("10.0.0.100"),
                last: ip("10.0.0.120"),
                port: Some(443)
            },
        ]
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.key, VirtualServerKey::Group("WEBFARM".into()));
    assert_eq!(vs.scheduler, Some(Scheduler::Lc));
    assert_eq!(reals(vs), vec![(ip("192.168.10.51"), 0, 1)]);
    let Checker::Tcp(t) = &vs.real_servers[0].checkers[0] else {
        panic!("expected TCP_CHECK")
    };
    assert_eq!(t.connect.connect_port, Some(80));
}

#[test]
fn vsg_fwmark() {
    let c = load_good("vsg_fwmark.conf").config;
    let g = &c.virtual_server_groups[0];
    assert_eq!(
        g.members,
        vec![
            VsgMember::Fwmark {
                mark: 10,
                family: None
            },
            VsgMember::Fwmark {
                mark: 11,
                family: None
            }
        ]
    );
    assert!(g.has_fwmarks() && !g.has_addresses());
    assert_eq!(c.virtual_servers.len(), 2);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.key, VirtualServerKey::Group("FWM_GROUP".into()));
    assert_eq!(vs.persistence_timeout, Some(900));
    assert_eq!(
        reals(vs),
        vec![(ip("192.168.10.61"), 0, 3), (ip("192.168.10.62"), 0, 1)]
    );
    let vs2 = &c.virtual_servers[1];
    assert_eq!(vs2.key, VirtualServerKey::Fwmark(20));
    assert_eq!(vs2.scheduler, Some(Scheduler::Rr));
    // No weight given: 1.
    assert_eq!(reals(vs2), vec![(ip("192.168.10.63"), 0, 1)]);
}

#[test]
fn sorry_quorum() {
    let c = load_good("sorry_quorum.conf").config;
    let vs = vs_at(&c, "192.168.1.70", 80);
    assert_eq!(vs.quorum, Some(2));
    assert_eq!(vs.effective_quorum(), 2);
    assert_eq!(vs.hysteresis, Some(1));
    assert_eq!(vs.quorum_up.as_ref().unwrap().argv, vec!["/bin/true", "up"]);
    assert_eq!(
        vs.quorum_down.as_ref().unwrap().argv,
        vec!["/bin/true", "down"]
    );
    let s = vs.sorry_server.as_ref().unwrap();
    assert_eq!((s.ip, s.port), (ip("192.168.1.79"), 8080));
    assert_eq!(vs.real_servers.len(), 3);
}

#[test]
fn lvs_tun() {
    let c = load_good("lvs_tun.conf").config;
    let vs = vs_at(&c, "192.168.1.75", 53);
    assert!(matches!(vs.method, Some(ForwardingMethod::Tun(_))));
    assert_eq!(vs.protocol, Some(LvsProtocol::Udp));
    assert_eq!(vs.scheduler, Some(Scheduler::Sed));
    assert_eq!(vs.delay_loop, Some(secs(30)));
    let Checker::Dns(d) = &vs.real_servers[0].checkers[0] else {
        panic!("expected DNS_CHECK")
    };
    use keepalived_config::model::lvs::DnsType;
    assert_eq!(d.query_type, Some(DnsType::A));
    assert_eq!(d.name.as_deref(), Some("example.com"));
    assert_eq!(d.connect.connect_timeout, Some(secs(3)));
    let Checker::Dns(d2) = &vs.real_servers[1].checkers[0] else {
        panic!("expected DNS_CHECK")
    };
    assert_eq!(d2.query_type, Some(DnsType::Soa));
}

#[test]
fn smtp_check() {
    let c = load_good("smtp_check.conf").config;
    let vs = vs_at(&c, "10.0.0.25", 25);
    let Checker::Smtp(s) = &vs.real_servers[0].checkers[0] else {
        panic!("expected SMTP_CHECK")
    };
    assert_eq!(s.helo_name.as_deref(), Some("lb.example.com"));
    assert_eq!(s.connect.connect_timeout, Some(secs(10)));
    assert_eq!(s.common.retry, Some(2));
    let Checker::Smtp(s2) = &vs.real_servers[1].checkers[0] else {
        panic!("expected SMTP_CHECK")
    };
    assert_eq!(s2.hosts.len(), 1);
    assert_eq!(s2.hosts[0].connect.connect_ip, Some(ip("10.0.0.27")));
    assert_eq!(s2.hosts[0].connect.connect_port, Some(587));
}

#[test]
fn persistence_granularity() {
    let c = load_good("persistence_granularity.conf").config;
    let vs = vs_at(&c, "192.168.1.80", 443);
    assert_eq!(vs.scheduler, Some(Scheduler::Lblc));
    assert_eq!(vs.persistence_timeout, Some(1800));
    assert_eq!(
        vs.persistence_granularity,
        Some(PersistenceGranularity::V4Mask(
            "255.255.255.0".parse().unwrap()
        ))
    );
}

#[test]
fn vrrp_strict() {
    let c = load_good("vrrp_strict.conf").config;
    assert!(c.global.vrrp_strict);
    let i = inst(&c, "VI_STRICT");
    assert_eq!(basics(i), (42, 100, Backup, "eth0"));
    assert!(i.unicast_peers.is_empty() && i.authentication.is_none());
}

#[test]
fn track_process() {
    let c = load_good("track_process.conf").config;
    let p = &c.track_processes[0];
    assert_eq!(p.name, "track_init");
    assert_eq!(p.process.as_deref(), Some("init"));
    assert_eq!(p.weight, 10);
    assert_eq!(p.quorum, 1);
    assert_eq!(p.terminate_delay, Some(secs(2)));
    assert_eq!(p.fork_delay, Some(secs(2)));
    let i = inst(&c, "VI_PROC");
    assert_eq!(i.track.processes[0].name, "track_init");
}

#[test]
fn dual_stack() {
    let c = load_good("dual_stack.conf").config;
    let v4 = inst(&c, "VI_GW4");
    let v6 = inst(&c, "VI_GW6");
    assert_eq!(basics(v4), (7, 150, Master, "eth0"));
    assert_eq!(basics(v6), (7, 150, Master, "eth0"));
    assert!(!v4.is_ipv6());
    assert!(v6.is_ipv6());
    assert_eq!(v6.virtual_ipaddress[0].addr, ip("fe80::7"));
    assert_eq!((v4.version, v6.version), (Some(3), Some(3)));
}

#[test]
fn mcast_src_ip() {
    let c = load_good("mcast_src_ip.conf").config;
    let i = inst(&c, "VI_HB");
    assert_eq!(basics(i), (45, 100, Backup, "eth1"));
    assert_eq!(i.src_ip, Some(ip("10.0.0.10")));
    assert!(!i.unicast_configured);
    assert!(i.dont_track_primary);
    assert_eq!(i.advert_int, secs(3));
    assert_eq!(i.virtual_ipaddress[0].dev.as_deref(), Some("eth0"));
    assert_eq!(i.track.interfaces[0].name, "eth0");
    assert_eq!(i.track.interfaces[0].weight, None);
}

#[test]
fn sync_group_track() {
    let c = load_good("sync_group_track.conf").config;
    let g = &c.sync_groups[0];
    assert_eq!(g.group, vec!["VI_FRONT", "VI_BACK"]);
    assert_eq!(g.track.scripts[0].name, "chk_uplink");
    assert_eq!(g.track.interfaces[0].name, "bond0");
    let s = &c.vrrp_scripts[0];
    assert_eq!((s.interval, s.weight), (secs(5), -50));
    assert_eq!(basics(inst(&c, "VI_FRONT")), (46, 150, Backup, "eth0"));
    assert_eq!(basics(inst(&c, "VI_BACK")), (47, 150, Backup, "eth1"));
}

#[test]
fn lvs_sync_daemon() {
    let c = load_good("lvs_sync_daemon.conf").config;
    let d = c.global.lvs_sync_daemon.as_ref().unwrap();
    assert_eq!(d.interface, "eth1");
    assert_eq!(d.vrrp_instance.as_deref(), Some("VI_LVS"));
    assert_eq!(d.sync_id, Some(5));
    let vs = vs_at(&c, "192.168.1.48", 3306);
    assert_eq!(reals(vs), vec![(ip("192.168.1.141"), 3306, 1)]);
}

#[test]
fn script_rise_fall() {
    let c = load_good("script_rise_fall.conf").config;
    let s = &c.vrrp_scripts[0];
    assert_eq!(s.interval, secs(10));
    assert_eq!(s.effective_timeout(), secs(8));
    assert_eq!((s.rise, s.fall, s.weight), (3, 2, 15));
    assert!(s.init_fail);
    let i = inst(&c, "VI_SLOW");
    assert_eq!(i.track.scripts[0].weight, Some(25));
    assert_eq!(basics(i), (49, 90, Backup, "eth0"));
}

#[test]
fn owner_priority() {
    let c = load_good("owner_priority.conf").config;
    let i = inst(&c, "VI_OWNER");
    // Validation derives the state from the priority.
    assert_eq!(i.state, Some(Master));
    assert_eq!(basics(i), (9, 255, Master, "eth0"));
}

#[test]
fn udp_check() {
    let c = load_good("udp_check.conf").config;
    let vs = vs_at(&c, "10.0.0.114", 514);
    assert_eq!(vs.protocol, Some(LvsProtocol::Udp));
    let Checker::Udp(u) = &vs.real_servers[0].checkers[0] else {
        panic!("expected UDP_CHECK")
    };
    assert_eq!(u.connect.connect_timeout, Some(secs(2)));
    assert!(matches!(vs.real_servers[1].checkers[0], Checker::Ping(_)));
}

#[test]
fn http_multi_url() {
    let c = load_good("http_multi_url.conf").config;
    let vs = vs_at(&c, "192.168.1.85", 8080);
    assert_eq!(vs.virtualhost.as_deref(), Some("app.example.com"));
    let rs = &vs.real_servers[0];
    assert_eq!(rs.weight, Some(4));
    assert_eq!(rs.inhibit_on_failure, Some(true));
    let Checker::Http(h) = &rs.checkers[0] else {
        panic!("expected HTTP_GET")
    };
    assert_eq!(h.urls[0].path, "/api/ping");
    assert_eq!(
        h.urls[0].status_codes,
        vec![StatusCodeRange {
            low: 200,
            high: 299
        }]
    );
    assert_eq!(
        h.urls[1].status_codes,
        vec![
            StatusCodeRange {
                low: 200,
                high: 200
            },
            StatusCodeRange {
                low: 304,
                high: 304
            }
        ]
    );
    assert_eq!(h.common.delay_before_retry, Some(secs(1)));
}

#[test]
fn notify_fifo() {
    let c = load_good("notify_fifo.conf").config;
    let f = &c.global.notify_fifo;
    assert_eq!(f.path.as_deref(), Some("/run/keepalived-test.fifo"));
    assert_eq!(f.script.as_ref().unwrap().argv, vec!["/bin/true"]);
}

#[test]
fn many_vips_bond() {
    let c = load_good("many_vips_bond.conf").config;
    let i = inst(&c, "VI_BOND");
    assert_eq!(basics(i), (54, 254, Master, "bond0"));
    assert_eq!(i.advert_int, secs(2));
    assert_eq!(
        vips(i),
        (101..=104)
            .map(|n| (ip(&format!("192.168.10.{n}")), 24))
            .collect::<Vec<_>>()
    );
}

#[test]
fn lvs_ipv6() {
    let c = load_good("lvs_ipv6.conf").config;
    let i = inst(&c, "VI_LVS6");
    assert!(i.is_ipv6());
    assert_eq!(vips(i)[0], (ip("fe80::55"), 64));
    let vs = vs_at(&c, "2001:db8:55::10", 80);
    assert_eq!(reals(vs), vec![(ip("2001:db8:55::21"), 80, 1)]);
}

#[test]
fn unicast_ipv6() {
    let c = load_good("unicast_ipv6.conf").config;
    let i = inst(&c, "VI_UNI6");
    assert!(i.is_ipv6());
    assert_eq!(i.src_ip, Some(ip("fd00::10")));
    assert_eq!(i.unicast_peers.len(), 1);
    assert_eq!(i.unicast_peers[0].addr, ip("fd00::11"));
    assert_eq!(vips(i), vec![(ip("fd00::56"), 64)]);
}
