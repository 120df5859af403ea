//! Building keepalived configuration templates for the scenarios.
//!
//! The output is a template for [`crate::Node::write_config`]: `@DIR@` and friends are filled
//! in per node, so one description serves every node of a scenario.

use std::fmt::Write as _;

/// One `vrrp_instance` block.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Instance name.
    pub name: String,
    /// `state` keyword (BACKUP unless a scenario says otherwise).
    pub state: String,
    /// Interface.
    pub interface: String,
    /// `virtual_router_id`.
    pub vrid: u8,
    /// `priority`.
    pub priority: u8,
    /// `advert_int` as written (e.g. `1`, `0.1`).
    pub advert_int: String,
    /// `version` (2 or 3), omitted when `None`.
    pub version: Option<u8>,
    /// `virtual_ipaddress` entries as written (e.g. `192.0.2.100/32`).
    pub vips: Vec<String>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay` in seconds.
    pub preempt_delay: Option<u32>,
    /// `unicast_src_ip`.
    pub unicast_src: Option<String>,
    /// `unicast_peer` addresses.
    pub unicast_peers: Vec<String>,
    /// `track_interface` entries.
    pub track_interfaces: Vec<String>,
    /// `track_file` entries (names of top-level `track_file` blocks).
    pub track_files: Vec<String>,
    /// Configure the node's notify scripts (`notify_master/backup/fault/stop` and `notify`).
    pub notify: bool,
}

impl Instance {
    /// `VI_<vrid>`-less default: instance `name` on `eth0`, VRRPv2, advert_int 1, BACKUP.
    pub fn new(name: &str, vrid: u8, priority: u8, vips: &[&str]) -> Instance {
        Instance {
            name: name.to_string(),
            state: "BACKUP".into(),
            interface: "eth0".into(),
            vrid,
            priority,
            advert_int: "1".into(),
            version: None,
            vips: vips.iter().map(|v| v.to_string()).collect(),
            nopreempt: false,
            preempt_delay: None,
            unicast_src: None,
            unicast_peers: Vec::new(),
            track_interfaces: Vec::new(),
            track_files: Vec::new(),
            notify: false,
        }
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "vrrp_instance {} {{", self.name);
        let _ = writeln!(out, "    state {}", self.state);
        let _ = writeln!(out, "    interface {}", self.interface);
        let _ = writeln!(out, "    virtual_router_id {}", self.vrid);
        let _ = writeln!(out, "    priority {}", self.priority);
        let _ = writeln!(out, "    advert_int {}", self.advert_int);
        if let Some(v) = self.version {
            let _ = writeln!(out, "    version {v}");
        }
        if self.nopreempt {
            let _ = writeln!(out, "    nopreempt");
        }
        if let Some(d) = self.preempt_delay {
            let _ = writeln!(out, "    preempt_delay {d}");
        }
        if let Some(src) = &self.unicast_src {
            let _ = writeln!(out, "    unicast_src_ip {src}");
        }
        if !self.unicast_peers.is_empty() {
            let _ = writeln!(out, "    unicast_peer {{");
            for p in &self.unicast_peers {
                let _ = writeln!(out, "        {p}");
            }
            let _ = writeln!(out, "    }}");
        }
        for (kw, items) in [
            ("track_interface", &self.track_interfaces),
            ("track_file", &self.track_files),
        ] {
            if !items.is_empty() {
                let _ = writeln!(out, "    {kw} {{");
                for i in items {
                    let _ = writeln!(out, "        {i}");
                }
                let _ = writeln!(out, "    }}");
            }
        }
        if self.notify {
            for s in [
                "notify_master",
                "notify_backup",
                "notify_fault",
                "notify_stop",
            ] {
                let _ = writeln!(out, "    {s} @DIR@/{s}.sh");
            }
            let _ = writeln!(out, "    notify @DIR@/notify.sh");
        }
        let _ = writeln!(out, "    virtual_ipaddress {{");
        for v in &self.vips {
            let _ = writeln!(out, "        {v}");
        }
        let _ = writeln!(out, "    }}");
        let _ = writeln!(out, "}}");
    }
}

/// A top-level `track_file` block.
#[derive(Debug, Clone)]
pub struct TrackFile {
    /// Block name.
    pub name: String,
    /// File path (may use `@DIR@`).
    pub file: String,
    /// `weight`.
    pub weight: i32,
}

/// A `vrrp_sync_group`.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    /// Group name.
    pub name: String,
    /// Member instance names.
    pub members: Vec<String>,
}

/// A whole configuration template: `global_defs`, track files, sync groups, instances.
pub fn render(instances: &[Instance], groups: &[SyncGroup], files: &[TrackFile]) -> String {
    let mut out = String::from("global_defs {\n    router_id @NAME@\n}\n");
    for f in files {
        let _ = writeln!(
            out,
            "track_file {} {{\n    file {}\n    weight {}\n}}",
            f.name, f.file, f.weight
        );
    }
    for g in groups {
        let _ = writeln!(out, "vrrp_sync_group {} {{\n    group {{", g.name);
        for m in &g.members {
            let _ = writeln!(out, "        {m}");
        }
        let _ = writeln!(out, "    }}\n}}");
    }
    for i in instances {
        i.render(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_instance() {
        let mut i = Instance::new("VI_1", 51, 150, &["192.0.2.100/32"]);
        i.notify = true;
        let text = render(&[i], &[], &[]);
        assert!(text.contains("virtual_router_id 51"));
        assert!(text.contains("notify @DIR@/notify.sh"));
        assert!(text.contains("        192.0.2.100/32"));
    }
}
