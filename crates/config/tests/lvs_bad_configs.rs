//! Broken LVS configurations: each gives keepalived's diagnostic, at the right place, with
//! keepalived's exit code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{exit_code, load_str, AssumeAll, ConfigClass, LoadOptions, Loaded};

fn load(text: &str) -> Loaded {
    load_str("bad.conf", text, &LoadOptions::default(), &AssumeAll)
}

/// The counted diagnostics as `line:col: message`.
fn counted(l: &Loaded) -> Vec<String> {
    l.diagnostics
        .iter()
        .filter(|d| d.class != ConfigClass::Ok)
        .map(|d| match d.loc {
            Some(loc) => format!("{}:{}: {}", loc.line, loc.col, d.message),
            None => d.message.clone(),
        })
        .collect()
}

#[test]
fn real_server_family_mismatch() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 2001:db8::2 80 {
        TCP_CHECK {
        }
    }
    real_server 10.0.0.2 80 {
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec!["5:5: Address family of virtual server and real server 2001:db8::2 don't match - skipping real server."]
    );
    assert_eq!(l.config.virtual_servers[0].real_servers.len(), 1);
    assert_eq!(exit_code(&l.diagnostics), 5);
}

#[test]
fn sorry_server_family_mismatch() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    sorry_server 2001:db8::99 80
    real_server 10.0.0.2 80 {
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec!["5:5: Address family of virtual server and sorry server 2001:db8::99 don't match - skipping sorry server."]
    );
    assert!(l.config.virtual_servers[0].sorry_server.is_none());
}

#[test]
fn quorum_exceeds_weights() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    quorum 5
    hysteresis 1
    real_server 10.0.0.2 80 {
        weight 1
        TCP_CHECK {
        }
    }
    real_server 10.0.0.3 80 {
        weight 2
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec!["1:1: Warning - quorum 5 for [10.0.0.1]:tcp:80 exceeds total weight of real servers 3, reducing quorum to 3"]
    );
}

#[test]
fn hysteresis_not_below_quorum() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    quorum 2
    hysteresis 2
    real_server 10.0.0.2 80 {
        weight 2
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec!["1:1: Virtual server [10.0.0.1]:tcp:80: hysteresis 2 >= quorum 2; setting hysteresis to 1"]
    );
}

#[test]
fn missing_protocol_scheduler_method_and_real_servers() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    real_server 10.0.0.2 80 {
        TCP_CHECK {
        }
    }
}
virtual_server 10.0.0.5 80 {
    lvs_sched rr
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "1:1: Virtual server [10.0.0.1]:none:80: no protocol set - defaulting to UDP",
            "1:1: Virtual server [10.0.0.1]:udp:80: no scheduler set, setting default 'wlc'",
            "1:1: Virtual server [10.0.0.1]:udp:80: no forwarding method set, setting default NAT",
            "7:1: Virtual server [10.0.0.5]:none:80 has no real servers - ignoring",
        ]
    );
}

#[test]
fn bad_digest_and_status_codes() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        HTTP_GET {
            url {
                path /
                digest 0123456789abcdef
                status_code 200 2xx 700 300-200
            }
            url {
                digest 0123456789abcdef0123456789abcdeg
            }
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "9:24: digest '0123456789abcdef' character length should be 32 rather than 16",
            "10:33: Invalid HTTP_GET status code '2xx'",
            "10:37: Invalid HTTP_GET status code '700'",
            "10:41: Invalid HTTP_GET status code '300-200'",
            "13:24: Unable to interpret hex digit in '0123456789abcdef0123456789abcdeg' at offset 30/31",
            "12:13: HTTP/SSL_GET checker url has no path - ignoring",
        ]
    );
    let rs = &l.config.virtual_servers[0].real_servers[0];
    let keepalived_config::model::lvs::Checker::Http(h) = &rs.checkers[0] else {
        panic!("expected HTTP_GET")
    };
    assert_eq!(h.urls.len(), 1);
    assert_eq!(h.urls[0].digest, None);
    assert_eq!(h.urls[0].status_codes.len(), 1);
}

#[test]
fn dr_port_mismatch_and_duplicate_real_server() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    real_server 10.0.0.2 8080 {
        TCP_CHECK {
        }
    }
    real_server 10.0.0.2 8080 {
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "9:5: VS [10.0.0.1]:tcp:80: real server [10.0.0.2]:tcp:8080 is duplicated - removing second rs",
            "5:5: WARNING - virtual server [10.0.0.1]:tcp:80 and real server [10.0.0.2]:tcp:8080 ports don't match - resetting",
        ]
    );
}

#[test]
fn deprecated_nb_get_retry_and_unknown_keyword() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        wieght 2
        HTTP_GET {
            url {
                path /
            }
            nb_get_retry 3
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "6:9: unknown keyword 'wieght'",
            "11:13: nb_get_retry is deprecated - please use 'retry'",
        ]
    );
    let unknown = &l.diagnostics[0];
    assert_eq!(unknown.hint.as_deref(), Some("did you mean 'weight'?"));
}

#[test]
fn checker_without_url_is_dropped() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        HTTP_GET {
            connect_timeout 3
        }
        MISC_CHECK {
            misc_timeout 3
        }
        FILE_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "6:9: HTTP/SSL_GET checker has no urls specified - ignoring",
            "9:9: No script path has been specified for MISC_CHECKER - skipping",
            "12:9: FILE_CHECK has no track_file specified - ignoring",
        ]
    );
    assert!(l.config.virtual_servers[0].real_servers[0]
        .checkers
        .is_empty());
}

#[test]
fn misc_script_without_script_security() {
    let l = load(
        r#"virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        MISC_CHECK {
            misc_path "/usr/local/bin/check.sh 10.0.0.2"
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec!["SECURITY VIOLATION - check scripts are being executed but script_security not enabled."]
    );
    assert_eq!(exit_code(&l.diagnostics), 6);
}

#[test]
fn undefined_group_is_ignored_without_error() {
    let l = load(
        r#"virtual_server group nosuch {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 80 {
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert!(counted(&l).is_empty());
    assert_eq!(exit_code(&l.diagnostics), 0);
    assert_eq!(
        l.diagnostics[0].message,
        "Virtual server group nosuch specified but not configured - ignoring virtual server [nosuch]:0"
    );
}

#[test]
fn bad_headers_skip_their_blocks() {
    let l = load(
        r#"virtual_server 10.0.0.300 80 {
    lvs_sched rr
}
virtual_server 10.0.0.1 80 {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 10.0.0.2 http {
        TCP_CHECK {
        }
    }
    real_server 10.0.0.3 80 {
        lvs_method TUN type gue
        TCP_CHECK {
        }
    }
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "1:1: Invalid virtual server IP address/port 10.0.0.300/80 - skipping",
            "8:5: Invalid real server ip address/port 10.0.0.2/http - skipping",
            "13:9: gue tunnels require port, otherwise cannot have port.",
        ]
    );
    assert_eq!(l.config.virtual_servers.len(), 1);
    assert_eq!(l.config.virtual_servers[0].real_servers.len(), 1);
}

#[test]
fn virtual_server_group_entries() {
    let l = load(
        r#"virtual_server_group g {
    10.0.0.9-3 80
    10.0.0.1/24 80
    10.0.0.0/33 80
    fwmark 1 ipx
    10.0.0.0/24 80
}
virtual_server_group empty {
}
"#,
    );
    assert_eq!(
        counted(&l),
        vec![
            "2:5: Address range end is not greater than address range start - 10.0.0.9-3 - skipping",
            "3:5: Address mask bits not empty - 10.0.0.1/24 - skipping",
            "4:5: Invalid netmask - 10.0.0.0/33 - skipping",
            "5:5: (g): fwmark '1' family ipx unknown - ignoring",
            "8:1: virtual server group empty has no entries - removing",
        ]
    );
    assert_eq!(l.config.virtual_server_groups.len(), 1);
    assert_eq!(l.config.virtual_server_groups[0].members.len(), 1);
}
