//! SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK in the virtual-server loop:
//! their settings from the configuration, the datagram probes, the `ping_group_range`
//! widening, and FILE_CHECK's state from the tracked files (no probe, no timer: inotify
//! events change it, as in keepalived where a FILE_CHECK has no thread of its own).

use super::dgram::{self, Dgram, DgramKind};
use super::filewatch::FileWatch;
use super::probe::Probe;
use super::{ping_range, Kind, VirtualServers, VsContext, TOKEN_BASE};
use keepalived_check::dns;
use keepalived_check::filecheck::{effective_weight, status, FileStatus};
use keepalived_check::icmp;
use keepalived_check::smtp::DEFAULT_HELO;
use keepalived_check::tcp::Endpoints;
use keepalived_check::udp::{ReplyPattern, ReplyRule, DEFAULT_MAX_REPLY, RANDOM_PAYLOAD_LEN};
use keepalived_config::model::lvs::{Checker, RealServer, VirtualServer};
use keepalived_config::Config;
use std::path::Path;
use std::time::Instant;

/// The token of the inotify descriptor watching FILE_CHECK's files.
pub const FILE_TOKEN: usize = TOKEN_BASE + (1 << 30);

/// keepalived's SMTP port when the real server gives none.
const SMTP_PORT: u16 = 25;
/// The DNS port when the real server gives none.
const DNS_PORT: u16 = 53;

/// The kind of a checker this module handles, `None` for the others.
pub(super) fn kind_of(c: &Checker, config: &Config) -> Option<Kind> {
    Some(match c {
        Checker::Smtp(s) => Kind::Smtp {
            helo: s
                .helo_name
                .clone()
                .unwrap_or_else(|| DEFAULT_HELO.to_string()),
        },
        Checker::Dns(d) => Kind::Dns {
            qtype: d.query_type.unwrap_or_default(),
            name: d.name.clone().unwrap_or_default(),
        },
        Checker::Udp(u) => {
            let pattern = match &u.require_reply {
                Some(Some(text)) => match ReplyPattern::parse(text) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        log::error!("{e}: the reply is not compared");
                        None
                    }
                },
                _ => None,
            };
            Kind::Udp {
                payload: u.payload.clone(),
                rule: ReplyRule {
                    required: u.require_reply.is_some(),
                    pattern,
                    min_len: u.min_reply_length.unwrap_or(0),
                    max_len: u.max_reply_length.unwrap_or(DEFAULT_MAX_REPLY),
                },
            }
        }
        Checker::Ping(_) => Kind::Ping,
        Checker::File(f) => {
            let Some(name) = &f.track_file else {
                return Some(Kind::Unsupported("FILE_CHECK without track_file"));
            };
            let Some(block) = config.track_files.iter().find(|t| &t.name == name) else {
                log::error!("FILE_CHECK: track_file {name} not found");
                return Some(Kind::Unsupported("FILE_CHECK with an unknown track_file"));
            };
            // keepalived: without its own weight the checker takes the block's.
            let (weight, reverse) = match f.weight {
                Some(w) if w != 0 => (w, f.reverse),
                _ => (block.weight, block.reverse),
            };
            Kind::File {
                track: name.clone(),
                weight,
                reverse,
            }
        }
        _ => return None,
    })
}

/// The endpoints of a checker this module handles: SMTP's deprecated `host` blocks (the
/// first one is checked) and the default SMTP and DNS ports when the real server has none.
pub(super) fn endpoints(c: &Checker, rs: &RealServer, vs: &VirtualServer) -> Option<Endpoints> {
    let co = match c {
        Checker::Smtp(s) => match s.hosts.first() {
            Some(h) => {
                if s.hosts.len() > 1 {
                    log::warn!(
                        "SMTP_CHECK of {}: only the first of {} host blocks is checked (define more checkers instead)",
                        rs.ip,
                        s.hosts.len()
                    );
                }
                &h.connect
            }
            None => &s.connect,
        },
        other => other.connect()?,
    };
    let mut ep = Endpoints::resolve(co, rs, vs);
    if ep.dst.port() == 0 {
        match c {
            Checker::Smtp(_) => ep.dst.set_port(SMTP_PORT),
            Checker::Dns(_) => ep.dst.set_port(DNS_PORT),
            _ => {}
        }
    }
    Some(ep)
}

impl VirtualServers {
    /// Opens the datagram probe of slot `i` if it is a UDP, DNS or PING check; `false` for
    /// the other kinds.
    pub(super) fn open_dgram(&mut self, ctx: &mut VsContext, i: usize, now: Instant) -> bool {
        let timeout = self.params_timeout(i);
        let seq = self.random();
        let Some(slot) = self.slots.get(i) else {
            return false;
        };
        let ping = match &slot.kind {
            Kind::Ping => true,
            Kind::Dns { .. } | Kind::Udp { .. } => false,
            _ => return false,
        };
        let Some(ep) = slot.ep else {
            return true;
        };
        let (kind, packet) = match &slot.kind {
            Kind::Ping => (
                DgramKind::Ping(ep.dst.is_ipv6()),
                icmp::echo_request(ep.dst.is_ipv6(), seq as u16),
            ),
            Kind::Dns { qtype, name } => {
                let id = (seq >> 16) as u16;
                (DgramKind::Dns(id), dns::query(id, name, *qtype))
            }
            Kind::Udp { payload, rule } => {
                let packet = match payload {
                    Some(p) => p.clone(),
                    None => (0..RANDOM_PAYLOAD_LEN)
                        .map(|k| (seq.rotate_left(k as u32 % 32) & 0xff) as u8)
                        .collect(),
                };
                (DgramKind::Udp(rule.clone()), packet)
            }
            _ => return false,
        };
        let token = mio::Token(TOKEN_BASE + i);
        let sock = match dgram::open(&ep, ping, ctx.registry, token) {
            Ok(s) => s,
            Err(e) => {
                let name = slot.name.clone();
                let denied = matches!(
                    e.raw_os_error(),
                    Some(nix::libc::EACCES) | Some(nix::libc::EPERM)
                );
                if ping && denied && self.unsupported_logged.insert("ping socket") {
                    // Once: it fails the same way every round until the sysctl changes.
                    log::error!(
                        "PING_CHECK: cannot open an ICMP socket ({e}): this process's group is not in {}; PING_CHECKs fail",
                        ping_range::PATH
                    );
                } else {
                    log::debug!("socket to {name}: {e}");
                }
                self.finish(ctx, i, Err("connection error to"), now);
                return true;
            }
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.probe = Some(Probe::dgram(Dgram::new(sock, kind, packet)));
            slot.running_since = Some(now);
        }
        self.schedule(i, now + timeout);
        // The request goes out now; the answer comes through `ready`.
        self.ready(ctx, token, false, true, now);
        true
    }

    /// Follows the files of the FILE_CHECKs and applies their values. Called after every
    /// (re)load.
    pub(super) fn load_extras(&mut self, config: &Config) {
        let names: Vec<String> = self
            .slots
            .iter()
            .filter_map(|s| match &s.kind {
                Kind::File { track, .. } => Some(track.clone()),
                _ => None,
            })
            .collect();
        self.files = FileWatch::new(&config.track_files, names.iter().map(String::as_str));
        self.apply_files_initial();
    }

    /// Widens `ping_group_range` when PING_CHECKs are about to run (start and reload; not at
    /// construction, so building the state from a configuration never touches the system).
    pub(super) fn widen_ping_range(&mut self) {
        let pings = self.slots.iter().any(|s| matches!(s.kind, Kind::Ping));
        if pings && self.ping_saved.is_none() {
            self.ping_saved = ping_range::widen(Path::new(ping_range::PATH));
        }
    }

    /// Restores `ping_group_range` (at shutdown).
    pub(super) fn restore_ping_range(&mut self) {
        if let Some(min) = self.ping_saved.take() {
            ping_range::restore(Path::new(ping_range::PATH), min);
        }
    }

    /// The value of the file a FILE_CHECK slot follows (0 when it is not followed).
    fn file_value(&self, track: &str) -> i64 {
        self.files
            .index(track)
            .and_then(|f| self.files.files.get(f))
            .map_or(0, |f| f.value)
    }

    /// Sets every FILE_CHECK's state and weight from its file without events (start and
    /// reload: the real servers enter IPVS as the files say).
    fn apply_files_initial(&mut self) {
        let mut touched = Vec::new();
        for i in 0..self.slots.len() {
            let Some(Kind::File {
                track,
                weight,
                reverse,
            }) = self.slots.get(i).map(|s| s.kind.clone())
            else {
                continue;
            };
            let st = status(self.file_value(&track), weight, reverse);
            let Some(slot) = self.slots.get_mut(i) else {
                continue;
            };
            slot.file_add = match st {
                FileStatus::Fault => 0,
                FileStatus::Weight(w) => w,
            };
            let (vi, ri, ci) = (slot.vs, slot.rs, slot.ck);
            if let Some(ck) = self
                .states
                .get_mut(vi)
                .and_then(|s| s.rs.get_mut(ri))
                .and_then(|r| r.checkers.get_mut(ci))
            {
                ck.up = st != FileStatus::Fault;
                ck.has_run = true;
                ck.params.retry = 0;
            }
            touched.push((vi, ri));
        }
        touched.dedup();
        for (vi, ri) in touched {
            let w = self.file_weight(vi, ri);
            let Some(st) = self.states.get_mut(vi) else {
                continue;
            };
            if let Some(r) = st.rs.get_mut(ri) {
                r.weight = w;
                r.alive = r.all_up();
            }
            let live = st.live_weight();
            st.quorum =
                keepalived_check::quorum::Quorum::new(st.quorum.quorum, st.quorum.hysteresis, live);
            if let Some(s) = st.sorry_alive.as_mut() {
                *s = !st.quorum.up;
            }
        }
    }

    /// A real server's weight: configured, plus what its FILE_CHECKs add.
    fn file_weight(&self, vi: usize, ri: usize) -> u32 {
        let base = self
            .states
            .get(vi)
            .and_then(|s| s.rs.get(ri))
            .map_or(0, |r| r.configured_weight);
        effective_weight(
            base,
            self.slots
                .iter()
                .filter(|s| s.vs == vi && s.rs == ri && matches!(s.kind, Kind::File { .. }))
                .map(|s| s.file_add),
        )
    }

    /// The tracked files changed: re-evaluate the FILE_CHECKs that follow them.
    pub(super) fn files_changed(&mut self, ctx: &mut VsContext, now: Instant) {
        let changes = self.files.changes();
        for (f, _previous) in changes {
            let Some(name) = self.files.files.get(f).map(|w| w.name.clone()) else {
                continue;
            };
            for i in 0..self.slots.len() {
                let Some(Kind::File {
                    track,
                    weight,
                    reverse,
                }) = self.slots.get(i).map(|s| s.kind.clone())
                else {
                    continue;
                };
                if track != name {
                    continue;
                }
                let st = status(self.file_value(&track), weight, reverse);
                self.file_status(ctx, i, st, now);
            }
        }
    }

    /// Applies a FILE_CHECK's new status: up/down and the weight it adds.
    fn file_status(&mut self, ctx: &mut VsContext, i: usize, st: FileStatus, now: Instant) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let up = st != FileStatus::Fault;
        let add = match st {
            FileStatus::Fault => 0,
            FileStatus::Weight(w) => w,
        };
        let add_changed = slot.file_add != add;
        slot.file_add = add;
        let (vi, ri, ci) = (slot.vs, slot.rs, slot.ck);
        let name = slot.name.clone();
        let weight = self.file_weight(vi, ri);
        let Some(state) = self.states.get_mut(vi) else {
            return;
        };
        let rs_name = state.rs_names.get(ri).cloned().unwrap_or_default();
        let Some(r) = state.rs.get_mut(ri) else {
            return;
        };
        let old_weight = r.weight;
        let alive = r.alive;
        let Some(ck) = r.checkers.get_mut(ci) else {
            return;
        };
        let was_up = ck.up;
        ck.up = up;
        ck.has_run = true;
        if was_up != up {
            if up {
                log::info!("FILE_CHECK for {name}: tracked file leaving FAULT state");
            } else {
                log::info!("FILE_CHECK on service {name} failed.");
            }
        }
        let mut events = Vec::new();
        if old_weight != weight {
            log::info!(
                "Changing weight from {old_weight} to {weight} for {}active service {rs_name} of VS {}",
                if alive { "" } else { "in" },
                state.name
            );
            events.extend(state.set_weight(ri, weight));
        }
        if was_up != up {
            events.extend(state.rs_update(ri));
        }
        if !events.is_empty() || old_weight != weight || add_changed {
            self.queue_alerts(vi, crate::alert::CheckKind::Other, &events);
            self.handle_events(ctx, vi, &events, now);
            self.sync_vs(vi);
        }
    }
}
