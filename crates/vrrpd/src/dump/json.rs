//! `/tmp/keepalived.json` (`json_version 1`): an array with one `{"data":{...},"stats":{...}}`
//! object per instance, with keepalived 2.2.7's key names and order.
//!
//! Written by hand rather than through serde: keepalived prints `last_transition` with `%f`,
//! other floats with `%g` (`"garp_delay":5`), and escapes `/` as `\/`; exporters compare
//! against those files. Strings are escaped by serde_json (plus the `\/`), so the output is
//! always valid JSON (keepalived 2.2.7 turns a backslash into `\n`; we escape it properly).

use super::format::{cmd_str, g, unix_parts, vip};
use super::topology::{version_number, wantstate};
use super::{DumpInput, InstanceView};
use keepalived_vrrp::instance::{State, Stats};
use keepalived_vrrp::Auth;
use std::fmt::Write as _;

/// keepalived's `VRRP_STATE_*` numbers.
pub fn state_number(s: State) -> u8 {
    match s {
        State::Init => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        State::Stop => 98,
    }
}

/// A JSON string literal as keepalived's writer produces it.
fn quote(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('/', "\\/")
}

/// Builds one JSON object, fields in insertion order.
struct Obj {
    buf: String,
    empty: bool,
}

impl Obj {
    fn new() -> Self {
        Obj {
            buf: String::from("{"),
            empty: true,
        }
    }

    fn key(&mut self, k: &str) {
        if !self.empty {
            self.buf.push(',');
        }
        self.empty = false;
        self.buf.push_str(&quote(k));
        self.buf.push(':');
    }

    fn raw(&mut self, k: &str, v: &str) {
        self.key(k);
        self.buf.push_str(v);
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.buf.push_str(&quote(v));
    }

    fn uint(&mut self, k: &str, v: impl Into<u64>) {
        let v: u64 = v.into();
        self.key(k);
        let _ = write!(self.buf, "{v}");
    }

    fn bool(&mut self, k: &str, v: bool) {
        self.raw(k, if v { "true" } else { "false" });
    }

    /// keepalived omits an empty list altogether.
    fn array(&mut self, k: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        self.key(k);
        self.buf.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            self.buf.push_str(&quote(item));
        }
        self.buf.push(']');
    }

    fn finish(mut self) -> String {
        self.buf.push('}');
        self.buf
    }
}

/// The whole JSON document.
pub fn render(input: &DumpInput<'_>) -> String {
    let items: Vec<String> = input
        .instances()
        .iter()
        .map(|v| {
            let mut o = Obj::new();
            o.raw("data", &data(input, v));
            o.raw("stats", &stats(v.inst.stats()));
            o.finish()
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn data(input: &DumpInput<'_>, v: &InstanceView<'_>) -> String {
    let inst = v.inst;
    let p = inst.params();
    let cfg = v.cfg;
    let eff = cfg.map(|c| c.effective(&input.config.global));
    let vmac = v.shell.and_then(|s| s.vmac.as_ref());
    let mut o = Obj::new();
    o.str("iname", &p.name);
    o.uint(
        "dont_track_primary",
        cfg.is_some_and(|c| c.dont_track_primary),
    );
    o.uint(
        "skip_check_adv_addr",
        eff.as_ref().is_some_and(|e| e.skip_check_adv_addr),
    );
    o.uint("strict_mode", eff.as_ref().is_some_and(|e| e.strict));
    o.str("vmac_ifname", vmac.map_or("", |m| m.name.as_str()));
    if let Some(m) = vmac {
        o.str("ifp_ifname", &m.name);
    } else if !p.interface.is_empty() {
        o.str("ifp_ifname", &p.interface);
    }
    o.uint("master_priority", inst.master_priority());
    let (secs, usecs) = unix_parts(input.clock.wall(inst.last_transition()));
    o.raw("last_transition", &format!("{secs}.{usecs:06}"));
    let garp = &p.garp;
    o.raw("garp_delay", &g(garp.master_delay.as_secs_f64()));
    o.uint("garp_refresh", garp.master_refresh.as_secs());
    o.uint("garp_rep", garp.master_repeat);
    o.uint("garp_refresh_rep", garp.refresh_repeat);
    o.uint("garp_lower_prio_delay", garp.lower_prio_delay.as_secs());
    o.uint("garp_lower_prio_rep", garp.lower_prio_repeat);
    o.uint("lower_prio_no_advert", p.lower_prio_no_advert);
    o.uint("higher_prio_send_advert", p.higher_prio_send_advert);
    o.uint("vrid", p.vrid);
    o.uint("base_priority", p.priority);
    o.uint("effective_priority", inst.effective_priority());
    o.bool("vipset", inst.state() == State::Master);
    o.bool(
        "promote_secondaries",
        cfg.is_some_and(|c| c.promote_secondaries),
    );
    o.raw("adver_int", &g(p.advert_interval.as_secs_f64()));
    o.raw(
        "master_adver_int",
        &g(inst.master_adver_int().as_secs_f64()),
    );
    o.uint("accept", p.accept);
    o.bool("nopreempt", p.nopreempt);
    o.uint("preempt_delay", p.preempt_delay.as_secs());
    o.uint("state", state_number(inst.state()));
    o.uint("wantstate", state_number(wantstate(v)));
    o.uint("version", version_number(p.version));
    o.bool("smtp_alert", eff.as_ref().is_some_and(|e| e.smtp_alert));
    o.bool(
        "notify_deleted",
        cfg.is_some_and(|c| c.notify.notify_deleted),
    );
    if let Some(c) = cfg {
        let n = &c.notify;
        for (key, script) in [
            ("script_backup", &n.backup),
            ("script_master", &n.master),
            ("script_fault", &n.fault),
            ("script_stop", &n.stop),
            ("script_deleted", &n.deleted),
            ("script", &n.generic),
            ("script_master_rx_lower_pri", &n.master_rx_lower_pri),
        ] {
            if let Some(s) = script {
                o.str(key, &cmd_str(s));
            }
        }
        let set = inst.state() == State::Master;
        let dev_of = |dev: &Option<String>| -> String {
            let dev = dev.as_deref().unwrap_or(&p.interface);
            match vmac {
                Some(m) if dev == m.parent_name => m.name.clone(),
                _ => dev.to_string(),
            }
        };
        let vips: Vec<String> = c
            .virtual_ipaddress
            .iter()
            .map(|va| vip(va, &dev_of(&va.dev), set))
            .collect();
        o.array("vips", &vips);
        let evips: Vec<String> = c
            .virtual_ipaddress_excluded
            .iter()
            .map(|va| vip(va, &dev_of(&va.dev), set))
            .collect();
        o.array("evips", &evips);
        let words = |r: &keepalived_config::model::vrrp::RouteSpec| r.words.join(" ");
        o.array(
            "vroutes",
            &c.virtual_routes.iter().map(words).collect::<Vec<_>>(),
        );
        o.array(
            "vrules",
            &c.virtual_rules.iter().map(words).collect::<Vec<_>>(),
        );
        o.array(
            "track_ifp",
            &c.track
                .interfaces
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>(),
        );
        let scripts: Vec<String> = c
            .track
            .scripts
            .iter()
            .map(|r| {
                input
                    .config
                    .vrrp_scripts
                    .iter()
                    .find(|s| s.name == r.name)
                    .and_then(|s| s.script.as_ref())
                    .map(cmd_str)
                    .unwrap_or_default()
            })
            .collect();
        o.array("track_script", &scripts);
    }
    match &p.auth {
        Auth::None => o.uint("auth_type", 0u8),
        Auth::Pass(bytes) => {
            o.uint("auth_type", 1u8);
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            o.str(
                "auth_data",
                &String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[])),
            );
        }
        Auth::Ah => o.uint("auth_type", 2u8),
    }
    o.finish()
}

fn stats(s: &Stats) -> String {
    let mut o = Obj::new();
    o.uint("advert_rcvd", s.advert_rcvd);
    o.uint("advert_sent", s.advert_sent);
    o.uint("become_master", s.became_master);
    o.uint("release_master", s.release_master);
    o.uint("packet_len_err", s.packet_len_err);
    o.uint("advert_interval_err", s.advert_interval_err);
    o.uint("ip_ttl_err", s.ip_ttl_err);
    o.uint("invalid_type_rcvd", s.invalid_type_rcvd);
    o.uint("addr_list_err", s.addr_list_err);
    o.uint("invalid_authtype", s.invalid_authtype);
    o.uint("authtype_mismatch", s.authtype_mismatch);
    o.uint("auth_failure", s.auth_failure);
    o.uint("pri_zero_rcvd", s.pri_zero_rcvd);
    o.uint("pri_zero_sent", s.pri_zero_sent);
    o.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_keepalived() {
        assert_eq!(quote("a/b"), "\"a\\/b\"");
        assert_eq!(quote("x\"y\n"), "\"x\\\"y\\n\"");
        assert_eq!(quote("c:\\"), "\"c:\\\\\"");
    }
}
