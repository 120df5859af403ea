//! The newer real-server checkers end to end (ours only: keepalived's checker exits on a kernel
//! without IPVS, ours logs the IPVS commands instead). One daemon (`-C`) in one namespace, one
//! virtual server per checker; the real-server namespace runs Python stubs
//! (`checkers_more/servers.py`) whose answers the test switches through mode files. Every
//! checker is broken and repaired at the same time, so the whole scenario takes a few delay
//! loops: each RS must report notify_down then notify_up and log the matching
//! `IPVS (no kernel support): -d ...` / `-a ...` command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{write_exec, write_notify_script, Files, Proc};
use keepalived_integration::{ours_enabled, Lab, NodeKind};
use nix::sys::signal::{kill, Signal};

const PYTHON: &str = "/usr/bin/python3";
const SERVERS_PY: &str = include_str!("checkers_more/servers.py");
/// A second address of the real-server host, removed to fail PING_CHECK.
const PING_ADDR: &str = "192.0.2.60";

/// One checked real server: its notify script name, virtual server and IPVS protocol flag.
struct Rs {
    name: &'static str,
    vs: &'static str,
    proto: &'static str,
    addr: String,
    port: u16,
}

impl Rs {
    fn ipvs(&self, op: &str) -> String {
        format!(
            "IPVS (no kernel support): {op} {} {} -r {}:{}",
            self.proto, self.vs, self.addr, self.port
        )
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA in `dir` (ca.pem) and a server pair signed by it (cert.pem, key.pem) for `ip`.
fn make_ca_and_server(dir: &Path, ip: &str) {
    fs::create_dir_all(dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=krs test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "key.pem", "-out", "srv.csr", "-subj", "/CN=rs"]);
    openssl(dir, &csr);
    fs::write(
        dir.join("ext.cnf"),
        format!(
            "subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

fn rs_block(rs: &Rs, dir: &Path, check: &str) -> String {
    let d = dir.display();
    format!(
        "    real_server {addr} {port} {{
        weight 1
        notify_up \"{d}/{name}.sh up\"
        notify_down \"{d}/{name}.sh down\"
        {check}
    }}
",
        addr = rs.addr,
        port = rs.port,
        name = rs.name,
    )
}

fn vs_block(rs: &Rs, dir: &Path, check: &str) -> String {
    let (ip, port) = rs.vs.split_once(':').unwrap();
    let proto = if rs.proto == "-u" { "UDP" } else { "TCP" };
    format!(
        "virtual_server {ip} {port} {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol {proto}
    alpha
{}}}
",
        rs_block(rs, dir, check)
    )
}

#[test]
#[ignore = "needs root, netns, python3, openssl and the keepalived-rs daemon: run by make integration (KRS_DAEMON=1)"]
fn newer_checkers_go_down_and_up_with_their_servers() {
    if !ours_enabled() {
        println!("SKIPPED: checkers_more: needs KRS_DAEMON=1 and the keepalived-rs release binary");
        return;
    }
    let have_openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let started = Instant::now();
    let mut lab = Lab::new("ckm").unwrap();
    let host = lab.add_node("d", 1, NodeKind::Ours).unwrap();
    let rsn = lab.add_node("rs", 2, NodeKind::Ours).unwrap();
    rsn.ip(&["addr", "add", &format!("{PING_ADDR}/24"), "dev", "eth0"])
        .unwrap();
    let dir = host.dir().to_path_buf();
    let state = rsn.dir().join("state");
    fs::create_dir_all(&state).unwrap();
    let py = rsn.dir().join("servers.py");
    fs::write(&py, SERVERS_PY).unwrap();
    let a = rsn.addr4().to_string();
    let rs = |name, vs, proto, addr: &str, port| Rs {
        name,
        vs,
        proto,
        addr: addr.to_string(),
        port,
    };
    let http = rs("http", "192.0.2.101:80", "-t", &a, 8081);
    let https = rs("https", "192.0.2.102:443", "-t", &a, 8443);
    let smtp = rs("smtp", "192.0.2.103:25", "-t", &a, 2525);
    let dns = rs("dns", "192.0.2.104:53", "-u", &a, 5353);
    let udp = rs("udp", "192.0.2.105:9999", "-u", &a, 9999);
    let ping = rs("ping", "192.0.2.106:80", "-t", PING_ADDR, 80);
    let file = rs("file", "192.0.2.107:80", "-t", &a, 81);
    let misc = rs("misc", "192.0.2.108:80", "-t", &a, 82);

    // Certificates: ours (trusted through global SSL { ca }) and another CA's.
    let ours_ca = rsn.dir().join("ca-ours");
    let theirs_ca = rsn.dir().join("ca-theirs");
    if have_openssl {
        make_ca_and_server(&ours_ca, &a);
        make_ca_and_server(&theirs_ca, &a);
        fs::write(state.join("https.mode"), ours_ca.display().to_string()).unwrap();
    } else {
        println!("openssl CLI missing: SSL_GET part skipped");
    }

    let notify_log = dir.join("rs-notify.log");
    let mut all: Vec<&Rs> = vec![&http, &smtp, &dns, &udp, &ping, &file, &misc];
    if have_openssl {
        all.push(&https);
    }
    for r in &all {
        write_notify_script(&dir.join(format!("{}.sh", r.name)), &notify_log);
    }
    let track = dir.join("track.val");
    fs::write(&track, "0\n").unwrap();
    let misc_rc = dir.join("misc.rc");
    fs::write(&misc_rc, "0\n").unwrap();
    write_exec(
        &dir.join("misc_check.sh"),
        &format!("#!/bin/sh\nexit $(cat {})\n", misc_rc.display()),
    );

    let timing = "connect_timeout 1\n            retry 0\n            delay_before_retry 1\n            warmup 0";
    let mut conf = format!(
        "global_defs {{
    router_id checkers_more
    enable_script_security
    script_user root
}}
track_file tf {{
    file {}
    weight 0
}}
",
        track.display()
    );
    if have_openssl {
        conf += &format!("SSL {{\n    ca {}/ca.pem\n}}\n", ours_ca.display());
        conf += &vs_block(
            &https,
            &dir,
            &format!("SSL_GET {{\n            url {{\n                path /\n                status_code 200\n            }}\n            {timing}\n        }}"),
        );
    }
    conf += &vs_block(
        &http,
        &dir,
        &format!("HTTP_GET {{\n            url {{\n                path /\n                status_code 200\n            }}\n            {timing}\n        }}"),
    );
    conf += &vs_block(
        &smtp,
        &dir,
        &format!(
            "SMTP_CHECK {{\n            helo_name probe.test\n            {timing}\n        }}"
        ),
    );
    conf += &vs_block(
        &dns,
        &dir,
        &format!("DNS_CHECK {{\n            type A\n            name example.org\n            {timing}\n        }}"),
    );
    conf += &vs_block(
        &udp,
        &dir,
        &format!("UDP_CHECK {{\n            payload 6b727321\n            require_reply 6b727321\n            {timing}\n        }}"),
    );
    conf += &vs_block(
        &ping,
        &dir,
        &format!("PING_CHECK {{\n            {timing}\n        }}"),
    );
    conf += &vs_block(
        &file,
        &dir,
        "FILE_CHECK {\n            track_file tf\n        }",
    );
    conf += &vs_block(
        &misc,
        &dir,
        &format!(
            "MISC_CHECK {{\n            misc_path \"{}/misc_check.sh\"\n            misc_timeout 2\n            warmup 0\n        }}",
            dir.display()
        ),
    );
    let conf_path = dir.join("checkers_more.conf");
    fs::write(&conf_path, &conf).unwrap();

    // The real-server host's stubs.
    let py_log = rsn.dir().join("servers.log");
    let server = |r: &Rs| {
        Proc::spawn(
            rsn.ns(),
            &[
                PYTHON.into(),
                py.display().to_string(),
                r.name.into(),
                r.addr.clone(),
                r.port.to_string(),
                state.display().to_string(),
            ],
            rsn.dir(),
            &py_log,
        )
    };
    let _http_srv = server(&http);
    let _https_srv = have_openssl.then(|| server(&https));
    let _smtp_srv = server(&smtp);
    let _dns_srv = server(&dns);
    let mut udp_srv = server(&udp);

    let files = Files {
        notify_log,
        daemon_log: dir.join("daemon.log"),
    };
    let mut daemon = Proc::checker_daemon(host.ns(), &conf_path, &dir, &files.daemon_log);

    // Start: every RS is added (alpha: the first good check of each adds it).
    let adds: Vec<_> = all.iter().map(|r| (r.ipvs("-a"), 1)).collect();
    files.wait_logs(&adds, Duration::from_secs(10));
    println!(
        "all {} RS added after {} ms",
        all.len(),
        started.elapsed().as_millis()
    );
    let ups0: Vec<usize> = all
        .iter()
        .map(|r| files.count(&format!("{} up", r.name)))
        .collect();

    // Break every service at once.
    let t = Instant::now();
    fs::write(state.join("http.mode"), "500").unwrap();
    if have_openssl {
        fs::write(state.join("https.mode"), theirs_ca.display().to_string()).unwrap();
    }
    fs::write(state.join("smtp.mode"), "554").unwrap();
    fs::write(state.join("dns.mode"), "2").unwrap();
    udp_srv.stop();
    rsn.ip(&["addr", "del", &format!("{PING_ADDR}/24"), "dev", "eth0"])
        .unwrap();
    fs::write(&track, "1\n").unwrap();
    fs::write(&misc_rc, "1\n").unwrap();
    let downs: Vec<_> = all
        .iter()
        .map(|r| (format!("{} down", r.name), 1))
        .collect();
    files.wait_notifies(&downs, Duration::from_secs(10));
    let dels: Vec<_> = all.iter().map(|r| (r.ipvs("-d"), 1)).collect();
    files.wait_logs(&dels, Duration::from_secs(2));
    println!("all broken: down after {} ms", t.elapsed().as_millis());
    if have_openssl {
        assert!(
            files.log().contains("invalid peer certificate"),
            "SSL_GET should name the certificate error:\n{}",
            files.log()
        );
    }

    // Repair every service at once.
    let t = Instant::now();
    fs::write(state.join("http.mode"), "200").unwrap();
    if have_openssl {
        fs::write(state.join("https.mode"), ours_ca.display().to_string()).unwrap();
    }
    fs::write(state.join("smtp.mode"), "good").unwrap();
    fs::write(state.join("dns.mode"), "0").unwrap();
    udp_srv = server(&udp);
    rsn.ip(&["addr", "add", &format!("{PING_ADDR}/24"), "dev", "eth0"])
        .unwrap();
    fs::write(&track, "0\n").unwrap();
    fs::write(&misc_rc, "0\n").unwrap();
    let ups: Vec<_> = all
        .iter()
        .zip(&ups0)
        .map(|(r, n)| (format!("{} up", r.name), n + 1))
        .collect();
    files.wait_notifies(&ups, Duration::from_secs(10));
    let adds: Vec<_> = all.iter().map(|r| (r.ipvs("-a"), 2)).collect();
    files.wait_logs(&adds, Duration::from_secs(2));
    println!("all repaired: up after {} ms", t.elapsed().as_millis());

    // HTTP answering after connect_timeout: down, then up again when it is quick.
    let t = Instant::now();
    fs::write(state.join("http.mode"), "slow").unwrap();
    files.wait_notifies(&[("http down".into(), 2)], Duration::from_secs(8));
    files.wait_logs(&[(http.ipvs("-d"), 2)], Duration::from_secs(2));
    println!("slow HTTP: down after {} ms", t.elapsed().as_millis());
    let t = Instant::now();
    fs::write(state.join("http.mode"), "200").unwrap();
    files.wait_notifies(&[("http up".into(), ups0[0] + 2)], Duration::from_secs(8));
    println!("quick HTTP again: up after {} ms", t.elapsed().as_millis());

    // Nothing flapped: exactly two downs for http, one for the others.
    for r in &all {
        let want = if r.name == "http" { 2 } else { 1 };
        assert_eq!(
            files.count(&format!("{} down", r.name)),
            want,
            "{}: {:?}",
            r.name,
            files.notify_lines()
        );
    }

    kill(daemon.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(
        daemon.wait_exit(Duration::from_secs(5)),
        Some(0),
        "exit after SIGTERM; log:\n{}",
        files.log()
    );
    drop(udp_srv);
    println!(
        "checkers_more scenario took {} ms",
        started.elapsed().as_millis()
    );
}
