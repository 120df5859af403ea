//! SMTP alerts end to end: `vrrpd_standalone` in a network namespace of its own, with a small
//! SMTP sink listening on that namespace's loopback; the instance starts as MASTER and the
//! sink must receive keepalived's "Entering MASTER state" mail, then "Stopping" on SIGTERM.
//! Needs root and `ip`; run with
//! `cargo test -p keepalived-vrrpd --test smtp_alert -- --ignored`. Takes about 2 s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_vrrpd_standalone");

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("run ip");
    assert!(st.success(), "ip {args:?} failed");
}

/// The namespace, the daemon and the scratch directory, removed on drop (also on failure).
struct Lab {
    ns: String,
    dir: PathBuf,
    child: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Speaks enough SMTP to take mails; sends each mail's client lines on `tx`.
fn session(stream: TcpStream, tx: &mpsc::Sender<Vec<String>>) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    let mut in_data = false;
    out.write_all(b"220 sink ESMTP\r\n").unwrap();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        lines.push(line.clone());
        let reply: &[u8] = if in_data {
            if line != "." {
                continue;
            }
            in_data = false;
            let _ = tx.send(std::mem::take(&mut lines));
            b"250 queued\r\n"
        } else if line == "DATA" {
            in_data = true;
            b"354 go\r\n"
        } else if line == "QUIT" {
            let _ = out.write_all(b"221 bye\r\n");
            return;
        } else {
            b"250 ok\r\n"
        };
        if out.write_all(reply).is_err() {
            return;
        }
    }
}

/// Binds a listener on 127.0.0.1 inside namespace `ns` (from a thread that enters it) and
/// serves every connection; returns the port.
fn sink_in(ns: &str, tx: mpsc::Sender<Vec<String>>) -> u16 {
    let (port_tx, port_rx) = mpsc::channel();
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap();
        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        port_tx.send(l.local_addr().unwrap().port()).unwrap();
        for s in l.incoming().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || session(s, &tx));
        }
    });
    port_rx.recv_timeout(Duration::from_secs(5)).unwrap()
}

fn subject(mail: &[String]) -> String {
    mail.iter()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string()
}

#[test]
#[ignore = "needs root and ip netns"]
fn master_and_stop_mails_arrive() {
    let id = std::process::id();
    let ns = format!("smtp{id}");
    let dir = std::env::temp_dir().join(format!("smtp-alert-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    ip(&["netns", "add", &ns]);
    let mut lab = Lab {
        ns: ns.clone(),
        dir: dir.clone(),
        child: None,
    };
    ip(&["-n", &ns, "link", "set", "lo", "up"]);
    ip(&[
        "-n", &ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ip(&["-n", &ns, "link", "set", "eth1", "up"]);
    ip(&["-n", &ns, "addr", "add", "192.0.2.1/24", "dev", "eth0"]);
    ip(&["-n", &ns, "link", "set", "eth0", "up"]);

    let (tx, rx) = mpsc::channel();
    let port = sink_in(&ns, tx);
    let conf = dir.join("k.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n router_id lab1\n notification_email {{\n ops@example.org\n }}\n \
             notification_email_from ka@example.org\n smtp_server 127.0.0.1 {port}\n \
             smtp_connect_timeout 5\n smtp_alert\n}}\n\
             vrrp_instance VI_1 {{\n state MASTER\n interface eth0\n virtual_router_id 51\n \
             priority 200\n advert_int 1\n virtual_ipaddress {{\n 192.0.2.100/24\n }}\n}}\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("vrrpd.log")).unwrap();
    lab.child = Some(
        Command::new("ip")
            .args(["netns", "exec", &ns, BIN, "-f"])
            .arg(&conf)
            .env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let logs = || std::fs::read_to_string(dir.join("vrrpd.log")).unwrap_or_default();

    let mut subjects = Vec::new();
    let master = loop {
        let Ok(mail) = rx.recv_timeout(Duration::from_secs(10)) else {
            panic!("no MASTER mail; got {subjects:?}; log:\n{}", logs());
        };
        let s = subject(&mail);
        subjects.push(s.clone());
        if s.contains("Entering MASTER state") {
            break mail;
        }
    };
    assert_eq!(
        subject(&master),
        "[lab1] VRRP Instance VI_1 - Entering MASTER state"
    );
    assert!(master
        .iter()
        .any(|l| l == "HELO lab1" || l.starts_with("HELO ")));
    assert!(master.iter().any(|l| l == "MAIL FROM:<ka@example.org>"));
    assert!(master.iter().any(|l| l == "RCPT TO:<ops@example.org>"));
    assert!(master.iter().any(|l| l == "X-Mailer: Keepalived"));
    assert!(master
        .iter()
        .any(|l| l == "=> VRRP Instance is now owning VRRP VIPs <="));

    // SIGTERM through `kill` on the `ip netns exec` process, which execs the daemon.
    let pid = lab.child.as_ref().unwrap().id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let stop = rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("no Stopping mail; log:\n{}", logs()));
    assert_eq!(subject(&stop), "[lab1] VRRP Instance VI_1 - Stopping");
    let status = lab.child.as_mut().unwrap().wait().unwrap();
    assert!(status.success(), "daemon exit {status:?}; log:\n{}", logs());
}
