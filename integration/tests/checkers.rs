//! Real-server checks end to end (ours only: keepalived's checker exits on a kernel without
//! IPVS, ours logs the IPVS commands instead). A daemon namespace runs keepalived-rs with `-C`;
//! a second namespace on the same bridge is the real-server host, with a bare TCP listener and
//! an HTTP server. The test breaks and repairs each service and watches the notify scripts, the
//! logged IPVS commands, the SIGUSR1 dump and the SIGTERM exit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{write_notify_script, Files, Proc};
use keepalived_integration::{ours_enabled, wait_until, Lab, NodeKind};
use nix::sys::signal::{kill, Signal};

const VS: &str = "192.0.2.100:80";
const TCP_PORT: u16 = 8001;
const HTTP_PORT: u16 = 8080;
const PYTHON: &str = "/usr/bin/python3";

fn md5_hex(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().unwrap();
    assert!(out.status.success(), "md5sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn config(dir: &Path, rs_addr: &str, digest: &str) -> String {
    let d = dir.display();
    format!(
        "global_defs {{
    router_id checkers
    enable_script_security
    script_user root
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    alpha
    real_server {rs_addr} {TCP_PORT} {{
        weight 1
        notify_up \"{d}/tcp.sh up\"
        notify_down \"{d}/tcp.sh down\"
        TCP_CHECK {{
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }}
    }}
    real_server {rs_addr} {HTTP_PORT} {{
        weight 1
        notify_up \"{d}/http.sh up\"
        notify_down \"{d}/http.sh down\"
        HTTP_GET {{
            url {{
                path /check.txt
                digest {digest}
                status_code 200
            }}
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }}
    }}
}}
"
    )
}

#[test]
#[ignore = "needs root, netns and the keepalived-rs daemon: run by make integration (KRS_DAEMON=1)"]
fn tcp_and_http_checks_drive_notifies_ipvs_dump_and_exit() {
    if !ours_enabled() {
        println!("SKIPPED: checkers: needs KRS_DAEMON=1 and the keepalived-rs release binary");
        return;
    }
    let started = Instant::now();
    let mut lab = Lab::new("ck").unwrap();
    let host = lab.add_node("d", 1, NodeKind::Ours).unwrap();
    let rs = lab.add_node("rs", 2, NodeKind::Ours).unwrap();
    let dir = host.dir().to_path_buf();
    let www = rs.dir().join("www");
    fs::create_dir_all(&www).unwrap();
    let served = www.join("check.txt");
    let good = "healthy\n";
    fs::write(&served, good).unwrap();
    let digest = md5_hex(&served);

    let notify_log = dir.join("rs-notify.log");
    write_notify_script(&dir.join("tcp.sh"), &notify_log);
    write_notify_script(&dir.join("http.sh"), &notify_log);
    let conf = dir.join("checkers.conf");
    fs::write(&conf, config(&dir, rs.addr4(), &digest)).unwrap();

    // The real-server host: a plain listener (TCP_CHECK) and a web server (HTTP_GET).
    let py_log = rs.dir().join("servers.log");
    let server = |port: u16| {
        Proc::spawn(
            rs.ns(),
            &[
                PYTHON.into(),
                "-m".into(),
                "http.server".into(),
                port.to_string(),
                "--bind".into(),
                rs.addr4().into(),
                "--directory".into(),
                www.display().to_string(),
            ],
            rs.dir(),
            &py_log,
        )
    };
    let mut tcp_server = server(TCP_PORT);
    let _http_server = server(HTTP_PORT);

    let p = |f: &str| dir.join(f).display().to_string();
    let pid_files = [p("keepalived.pid"), p("checkers.pid")];
    let files = Files {
        notify_log,
        daemon_log: dir.join("daemon.log"),
    };
    let mut daemon = Proc::checker_daemon(host.ns(), &conf, &dir, &files.daemon_log);

    // alpha: both start down, the first good check of each brings it up.
    let t = files.wait_notify("tcp up", 1, Duration::from_secs(10));
    println!("TCP_CHECK up after {} ms", t.as_millis());
    let t = files.wait_notify("http up", 1, Duration::from_secs(10));
    println!("HTTP_GET up after {} ms (since TCP up)", t.as_millis());
    for rs_port in [TCP_PORT, HTTP_PORT] {
        files.wait_log(
            &format!(
                "IPVS (no kernel support): -a -t {VS} -r {}:{rs_port}",
                rs.addr4()
            ),
            Duration::from_secs(2),
        );
    }
    files.wait_log(
        "IPVS (no kernel support): -A -t 192.0.2.100:80",
        Duration::ZERO,
    );
    let text = fs::read_to_string(&files.daemon_log).unwrap();
    assert!(
        text.matches("Adding service").count() >= 2,
        "two 'Adding service' lines expected:\n{text}"
    );
    for f in &pid_files {
        assert!(Path::new(f).is_file(), "{f} missing while running");
    }

    // The TCP service goes away.
    tcp_server.stop();
    let t = files.wait_notify("tcp down", 1, Duration::from_secs(8));
    println!("TCP listener stopped: down after {} ms", t.as_millis());
    files.wait_log(
        &format!(
            "IPVS (no kernel support): -d -t {VS} -r {}:{TCP_PORT}",
            rs.addr4()
        ),
        Duration::from_secs(2),
    );
    files.wait_log("Removing service", Duration::ZERO);

    // The served file changes: digest mismatch, then back.
    fs::write(&served, "broken\n").unwrap();
    let t = files.wait_notify("http down", 1, Duration::from_secs(8));
    println!("served file changed: HTTP down after {} ms", t.as_millis());
    files.wait_log(
        &format!(
            "IPVS (no kernel support): -d -t {VS} -r {}:{HTTP_PORT}",
            rs.addr4()
        ),
        Duration::from_secs(2),
    );
    fs::write(&served, good).unwrap();
    let t = files.wait_notify("http up", 2, Duration::from_secs(8));
    println!("served file restored: HTTP up after {} ms", t.as_millis());
    let lines = files.notify_lines();
    for (want, n) in [("tcp up", 1), ("tcp down", 1), ("http down", 1)] {
        assert_eq!(files.count(want), n, "{want}: {lines:?}");
    }

    // SIGUSR1: the checker's dump in TMPDIR.
    let dump = dir.join("keepalived_check.data");
    let _ = fs::remove_file(&dump);
    kill(daemon.pid(), Signal::SIGUSR1).unwrap();
    wait_until("keepalived_check.data", Duration::from_secs(5), || {
        fs::read_to_string(&dump).is_ok_and(|t| t.contains(&format!(":{HTTP_PORT}")))
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e}\ndump: {:?}\ndaemon log:\n{}",
            fs::read_to_string(&dump),
            files.log()
        )
    });
    let dump_text = fs::read_to_string(&dump).unwrap();
    println!("dump:\n{dump_text}");
    for (port, state) in [(TCP_PORT, "down"), (HTTP_PORT, "alive")] {
        assert!(
            dump_text
                .lines()
                .any(|l| l.contains(&format!(":{port}:")) && l.contains(state)),
            "RS :{port} should be {state} in the dump:\n{dump_text}"
        );
    }

    // SIGTERM: exit 0, pid files gone.
    kill(daemon.pid(), Signal::SIGTERM).unwrap();
    let code = daemon.wait_exit(Duration::from_secs(5));
    assert_eq!(
        code,
        Some(0),
        "exit status after SIGTERM; log:\n{}",
        files.log()
    );
    for f in &pid_files {
        assert!(!Path::new(f).exists(), "{f} left after SIGTERM");
    }
    println!(
        "checkers scenario took {} ms",
        started.elapsed().as_millis()
    );
}
