//! VRRP adverts seen on a node's interface (`tcpdump`), for protocol-level timing.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{LabError, Node, Result};

/// One VRRP advertisement.
#[derive(Debug, Clone, PartialEq)]
pub struct Advert {
    /// Capture time.
    pub time: SystemTime,
    /// Source address.
    pub src: String,
    /// Virtual router id.
    pub vrid: u8,
    /// Advertised priority.
    pub prio: u8,
}

/// Runs `tcpdump -i eth0 'vrrp or ip6 proto 112'` in a node's namespace while alive.
#[derive(Debug)]
pub struct Capture {
    child: Child,
    adverts: Arc<Mutex<Vec<Advert>>>,
}

impl Capture {
    /// Starts capturing VRRP on `eth0` of `node`.
    pub fn new(node: &Node) -> Result<Capture> {
        let args = [
            "netns",
            "exec",
            node.ns(),
            "tcpdump",
            "-i",
            "eth0",
            "-n",
            "-tt",
            "-l",
            "-Z",
            "root",
            "vrrp or ip6 proto 112",
        ];
        let mut child = Command::new("ip")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|source| LabError::Spawn {
                cmd: format!("ip {}", args.join(" ")),
                source,
            })?;
        let adverts = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            let shared = Arc::clone(&adverts);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if let (Some(a), Ok(mut v)) = (parse_advert(&line), shared.lock()) {
                        v.push(a);
                    }
                }
            });
        }
        // tcpdump needs a moment to open its socket.
        std::thread::sleep(Duration::from_millis(500));
        Ok(Capture { child, adverts })
    }

    /// The takeover on the wire: `new_src`'s first advert and `old_src`'s last advert before
    /// it (for a graceful stop, the priority-0 one). `None` if either is missing.
    pub fn handover(&self, old_src: &str, new_src: &str) -> Option<(Advert, Advert)> {
        let all = self.adverts();
        let first_new = all.iter().find(|a| a.src == new_src)?.clone();
        let last_old = all
            .iter()
            .rev()
            .find(|a| a.src == old_src && a.time <= first_new.time)?
            .clone();
        Some((last_old, first_new))
    }

    /// Adverts seen so far.
    pub fn adverts(&self) -> Vec<Advert> {
        self.adverts.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `1795369739.183875 IP 192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, ...`
/// (IPv6: `IP6 fe80::1 > ff02::12: ip-proto-112 ...` carries no decoded fields: skipped).
fn parse_advert(line: &str) -> Option<Advert> {
    let mut words = line.split_whitespace();
    let stamp = words.next()?;
    let (secs, frac) = stamp.split_once('.')?;
    let micros: u64 = format!("{frac:0<6}").get(..6)?.parse().ok()?;
    let time = UNIX_EPOCH + Duration::from_secs(secs.parse().ok()?) + Duration::from_micros(micros);
    let _ip = words.next()?;
    let src = words.next()?.to_string();
    let field = |name: &str| -> Option<u8> {
        let rest = line.split(&format!(" {name} ")).nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    Some(Advert {
        time,
        src,
        vrid: field("vrid")?,
        prio: field("prio")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_vrrpv2_advert() {
        let a = parse_advert(
            "1795369739.183875 IP 192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, \
             prio 150, authtype none, intvl 1s, length 20",
        )
        .unwrap();
        assert_eq!(a.src, "192.0.2.11");
        assert_eq!((a.vrid, a.prio), (51, 150));
        assert_eq!(
            a.time.duration_since(UNIX_EPOCH).unwrap().as_micros(),
            1_795_369_739_183_875
        );
    }
}
