//! One test per VRRP-side check: the message, its class, and what it does to the model.

use crate::diag::ConfigClass;
use crate::host::{FileMeta, Host};
use crate::model::vrrp::InitialState;
use crate::{exit_code, load_str, LoadOptions, Loaded};
use std::path::Path;
use std::time::Duration;

/// A small, explicit system: interfaces eth0/eth1, users root/nobody, and a few files.
struct FakeHost {
    files: Vec<(&'static str, FileMeta)>,
}

const ROOT_EXEC: FileMeta = FileMeta {
    uid: 0,
    gid: 0,
    mode: 0o755,
    is_dir: false,
    executable: true,
};
const ROOT_DIR: FileMeta = FileMeta {
    uid: 0,
    gid: 0,
    mode: 0o755,
    is_dir: true,
    executable: true,
};

impl FakeHost {
    fn new() -> Self {
        Self {
            files: vec![
                ("/", ROOT_DIR),
                ("/usr", ROOT_DIR),
                ("/usr/bin", ROOT_DIR),
                ("/usr/bin/killall", ROOT_EXEC),
                ("/etc", ROOT_DIR),
                ("/etc/keepalived", ROOT_DIR),
                ("/etc/keepalived/notify.sh", ROOT_EXEC),
                (
                    "/tmp",
                    FileMeta {
                        mode: 0o1777,
                        ..ROOT_DIR
                    },
                ),
                (
                    "/tmp/unsafe.sh",
                    FileMeta {
                        uid: 1000,
                        mode: 0o777,
                        ..ROOT_EXEC
                    },
                ),
            ],
        }
    }
}

impl Host for FakeHost {
    fn interface_exists(&self, name: &str) -> bool {
        matches!(name, "lo" | "eth0" | "eth1")
    }
    fn user_exists(&self, name: &str) -> bool {
        matches!(name, "root" | "nobody")
    }
    fn group_exists(&self, name: &str) -> bool {
        matches!(name, "root" | "nogroup")
    }
    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        let p = path.to_str()?;
        self.files.iter().find(|(n, _)| *n == p).map(|(_, m)| *m)
    }
    fn resolves(&self, host: &str) -> bool {
        host == "localhost"
    }
    fn user_uid(&self, name: &str) -> Option<u32> {
        match name {
            "root" => Some(0),
            "nobody" => Some(65534),
            _ => None,
        }
    }
}

fn load(text: &str) -> Loaded {
    load_str("t.conf", text, &LoadOptions::default(), &FakeHost::new())
}

fn has(l: &Loaded, msg: &str) -> bool {
    l.diagnostics.iter().any(|d| d.message == msg)
}

fn class_of(l: &Loaded, msg: &str) -> Option<ConfigClass> {
    l.diagnostics
        .iter()
        .find(|d| d.message == msg)
        .map(|d| d.class)
}

/// A valid instance body; tests add or change lines.
fn inst(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {{\n  10.0.0.1/24\n }}\n{extra}\n}}\n"
    )
}

#[test]
fn a_good_config_exits_zero() {
    let l = load(&inst(""));
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
    let v = &l.config.vrrp_instances[0];
    assert_eq!(v.version, Some(2));
    assert_eq!(v.state, Some(InitialState::Backup));
    assert_eq!(v.accept, Some(true));
}

#[test]
fn vrid_must_be_set() {
    let l = load("vrrp_instance V {\n interface eth0\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n");
    assert!(has(&l, "(V) the virtual router id must be set"));
    assert_eq!(exit_code(&l.diagnostics), 5);
}

#[test]
fn priority_out_of_range_defaults_to_100() {
    let l = load(&inst(" priority 0"));
    assert!(has(&l, "number '0' outside range [1, 255]"));
    assert_eq!(l.config.vrrp_instances[0].priority, Some(100));
    assert_eq!(exit_code(&l.diagnostics), 5);
}

#[test]
fn state_master_without_priority_is_owner() {
    let l = load(
        "vrrp_instance V {\n state MASTER\n interface eth0\n virtual_router_id 5\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
    );
    assert_eq!(l.config.vrrp_instances[0].priority, Some(255));
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
}

#[test]
fn missing_interface_is_general_plus_bad_interface() {
    let l = load(&inst("").replace("interface eth0", "interface eth9"));
    let m = "WARNING - interface eth9 for vrrp_instance VI_1 doesn't exist";
    assert_eq!(class_of(&l, m), Some(ConfigClass::General));
    assert_eq!(
        class_of(&l, "Non-existent interface specified in configuration"),
        Some(ConfigClass::BadInterface)
    );
    assert_eq!(exit_code(&l.diagnostics), 5);
}

#[test]
fn dynamic_interfaces_allow_missing_ones() {
    let text = format!(
        "global_defs {{\n dynamic_interfaces\n}}\n{}",
        inst("").replace("eth0", "eth9")
    );
    let l = load(&text);
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
}

#[test]
fn loopback_is_refused() {
    let l = load(&inst("").replace("interface eth0", "interface lo"));
    assert!(has(
        &l,
        "(VI_1) cannot use a loopback interface (lo) for vrrp - ignoring"
    ));
}

#[test]
fn duplicate_vrid_on_one_interface() {
    let text = format!("{}{}", inst(""), inst("").replace("VI_1", "VI_2"));
    let l = load(&text);
    assert!(has(
        &l,
        "VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"
    ));
    // Different families do not conflict.
    let text = format!(
        "{}{}",
        inst(""),
        inst("")
            .replace("VI_1", "VI_2")
            .replace("10.0.0.1/24", "fe80::1")
    );
    let l = load(&text);
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
}

#[test]
fn advert_int_rounding() {
    let l = load(&inst(" advert_int 1.4"));
    assert!(has(
        &l,
        "(VI_1) VRRPv2 advertisement interval 1.400000s must be an integer. rounding"
    ));
    assert_eq!(
        l.config.vrrp_instances[0].advert_int,
        Duration::from_secs(1)
    );
    let l = load(&inst(" version 3\n advert_int 0.015"));
    assert!(has(
        &l,
        "(VI_1) VRRPv3 advertisement interval 0.015000s must be in units of 10ms - rounding"
    ));
    assert_eq!(
        l.config.vrrp_instances[0].advert_int,
        Duration::from_millis(20)
    );
    let l = load(&inst(" version 3\n advert_int 0.25"));
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
}

#[test]
fn auth_pass_is_truncated() {
    let l = load(&inst(
        " authentication {\n auth_type PASS\n auth_pass 123456789\n }",
    ));
    assert!(has(&l, "Truncating auth_pass to 8 characters"));
    let a = l.config.vrrp_instances[0].authentication.clone();
    assert_eq!(a.and_then(|a| a.auth_pass), Some("12345678".into()));
}

#[test]
fn strict_mode_rules() {
    let l = load(&format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        inst(" state MASTER\n unicast_peer {\n 10.0.0.2\n }")
    ));
    assert!(has(
        &l,
        "(VI_1) State MASTER must match being address owner"
    ));
    // keepalived 2.2.7 never reports unicast peers in strict mode (see complete_instance).
    assert!(!has(
        &l,
        "(VI_1) Unicast peers are not supported in strict mode"
    ));
    assert_eq!(exit_code(&l.diagnostics), 5);
}

#[test]
fn ipv6_forces_version_3() {
    let l = load(&inst("").replace("10.0.0.1/24", "fe80::10"));
    assert_eq!(l.config.vrrp_instances[0].version, Some(3));
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
    let l = load(&format!(
        "global_defs {{\n vrrp_strict\n}}\n{}",
        inst(" version 2").replace("10.0.0.1/24", "fe80::10")
    ));
    assert!(has(
        &l,
        "(VI_1) vrrp_version 2 conflicts with configured or deduced version 3; ignoring."
    ));
}

#[test]
fn invalid_vip_is_skipped() {
    let l = load(&inst(" virtual_ipaddress_excluded {\n 10.0.0.300\n }"));
    assert!(has(&l, "VRRP parsed invalid IP 10.0.0.300. skipping IP..."));
    assert!(l.config.vrrp_instances[0]
        .virtual_ipaddress_excluded
        .is_empty());
}

#[test]
fn unicast_keyword_without_peers_is_deprecated() {
    let l = load(&inst(" unicast_src_ip 10.0.0.10"));
    assert!(has(&l, "(VI_1) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."));
    assert_eq!(exit_code(&l.diagnostics), 5);
}

#[test]
fn track_script_must_name_a_defined_script() {
    let l = load(&inst(" track_script {\n nope\n }"));
    assert!(has(&l, "(VI_1) track script nope not found, ignoring..."));
    // Defined after the instance: keepalived resolves while parsing, so also not found.
    let l = load(&format!(
        "{}vrrp_script late {{\n script \"/usr/bin/killall -0 x\"\n}}\n",
        inst(" track_script {\n late\n }")
    ));
    assert!(has(&l, "(VI_1) track script late not found, ignoring..."));
}

#[test]
fn sync_group_membership() {
    let text = format!(
        "{}{}vrrp_sync_group G1 {{\n group {{\n VI_1\n }}\n}}\nvrrp_sync_group G2 {{\n group {{\n VI_1\n VI_2\n NOPE\n }}\n}}\n",
        inst(""),
        inst("").replace("VI_1", "VI_2").replace("51", "52")
    );
    let l = load(&text);
    assert!(has(
        &l,
        "Sync group G1 has only 1 virtual router(s) - this probably isn't what you want"
    ));
    assert!(has(
        &l,
        "Virtual router VI_1 cannot exist in more than one sync group; ignoring G2"
    ));
    assert!(has(
        &l,
        "Virtual router NOPE specified in sync group G2 doesn't exist - ignoring"
    ));
}

#[test]
fn scripts_without_security_are_a_violation_only_when_found() {
    // Found by $PATH search: violation (exit 6).
    let text = format!(
        "vrrp_script chk {{\n script \"killall -0 haproxy\"\n}}\n{}",
        inst(" track_script {\n chk\n }")
    );
    let l = load(&text);
    let m = "SECURITY VIOLATION - scripts are being executed but script_security not enabled.";
    assert_eq!(class_of(&l, m), Some(ConfigClass::Security));
    assert_eq!(exit_code(&l.diagnostics), 6);
    // Not found: the script is disabled instead (exit 5), no violation.
    let l = load(&text.replace("killall", "/opt/nothing.sh"));
    assert!(has(
        &l,
        "Disabling track script chk since not found/accessible"
    ));
    assert!(!has(&l, m));
    assert_eq!(exit_code(&l.diagnostics), 5);
    // Notify scripts count too.
    let l = load(&inst(" notify_master /etc/keepalived/notify.sh"));
    assert_eq!(exit_code(&l.diagnostics), 6);
}

#[test]
fn script_security_with_users() {
    // With security on and no keepalived_script user, scripts need a script_user.
    let text = format!(
        "global_defs {{\n enable_script_security\n}}\nvrrp_script chk {{\n script /usr/bin/killall\n}}\n{}",
        inst(" track_script {\n chk\n }")
    );
    let l = load(&text);
    assert!(has(
        &l,
        "Unable to set default user keepalived_script for script"
    ));
    assert!(has(
        &l,
        "Unable to set default user for vrrp script chk - removing"
    ));
    // A missing script_user.
    let l = load(&text.replace(
        "enable_script_security",
        "enable_script_security\n script_user ghost",
    ));
    assert!(has(&l, "Error setting global script uid/gid"));
    // A good one: clean.
    let l = load(&text.replace(
        "enable_script_security",
        "enable_script_security\n script_user root",
    ));
    assert_eq!(exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
    // An insecure script run as root with security on is disabled.
    let l = load(
        &text
            .replace(
                "enable_script_security",
                "enable_script_security\n script_user root",
            )
            .replace("/usr/bin/killall", "/tmp/unsafe.sh"),
    );
    assert!(has(&l, "Disabling track script chk due to insecure"));
}

#[test]
fn unused_script_does_not_change_the_exit_code() {
    let l = load(&format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\nvrrp_script idle {{\n script /usr/bin/killall\n}}\n{}",
        inst("")
    ));
    assert_eq!(
        class_of(&l, "Warning - script idle is not used"),
        Some(ConfigClass::Ok)
    );
    assert_eq!(exit_code(&l.diagnostics), 0);
}

#[test]
fn smtp_server_must_resolve() {
    let l = load("global_defs {\n smtp_server mail.example.com\n}\n");
    assert!(has(&l, "Invalid smtp server mail.example.com 25"));
    let l = load("global_defs {\n smtp_server 10.0.0.1 25\n}\n");
    assert_eq!(exit_code(&l.diagnostics), 0);
}

#[test]
fn up_down_delay_on_missing_interface_is_fatal() {
    let l = load("interface_up_down_delays {\n eth7 2 1\n}\n");
    assert_eq!(
        class_of(&l, "unknown interface eth7 specified for up/down delay"),
        Some(ConfigClass::Fatal)
    );
    assert_eq!(exit_code(&l.diagnostics), 4);
}

#[test]
fn own_interface_is_not_tracked_twice() {
    let l = load(&inst(" track_interface {\n eth0\n eth1 weight 10\n }"));
    assert!(has(
        &l,
        "(VI_1) Ignoring track_interface eth0 since own interface"
    ));
    assert_eq!(l.config.vrrp_instances[0].track.interfaces.len(), 1);
}

#[test]
fn sync_group_members_ignore_weights() {
    let text = format!(
        "{}{}vrrp_sync_group G {{\n group {{\n VI_1\n VI_2\n }}\n}}\n",
        inst(" track_interface {\n eth1 weight 10\n }"),
        inst("").replace("VI_1", "VI_2").replace("51", "52")
    );
    let l = load(&text);
    assert!(has(
        &l,
        "(VI_1) ignoring eth1 tracked interface weight due to SYNC group"
    ));
    assert_eq!(
        l.config.vrrp_instances[0].track.interfaces[0].weight,
        Some(0)
    );
}

#[test]
fn inherited_settings_are_resolved() {
    let l = load(&format!(
        "global_defs {{\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 3\n vrrp_higher_prio_send_advert\n}}\n{}",
        inst("")
    ));
    let v = &l.config.vrrp_instances[0];
    let e = v.effective(&l.config.global);
    assert!(!e.strict);
    assert_eq!(e.garp_master_delay, Duration::from_secs(2));
    assert_eq!(e.garp_lower_prio_delay, Duration::from_secs(2));
    assert_eq!(e.garp_lower_prio_repeat, 3);
    assert!(e.higher_prio_send_advert);
    assert!(!e.lower_prio_no_advert);
    assert_eq!(e.down_timer_adverts, 3);
    assert_eq!(e.mcast_dst_ip, "224.0.0.18".parse().ok());
    // Strict mode forces its own values.
    let l = load(&format!("global_defs {{\n vrrp_strict\n}}\n{}", inst("")));
    let v = &l.config.vrrp_instances[0];
    let e = v.effective(&l.config.global);
    assert!(e.strict && e.lower_prio_no_advert);
    assert_eq!(e.garp_lower_prio_repeat, 0);
    assert_eq!(v.accept, Some(false));
}
