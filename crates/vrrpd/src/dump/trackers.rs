//! `VRRP Sync groups`, `VRRP Scripts` and `VRRP Track files` sections, and the static
//! addresses, routes and rules before the topology.

use super::format::{cmd_str, vip, yn, Lines};
use super::topology::{file_weight, notify_script, script_weight, state_str, tracker_lists};
use super::DumpInput;
use keepalived_config::model::vrrp::TrackRef;
use keepalived_vrrp::instance::{State, TrackerKind, TrackerValue};

/// `------< Static Addresses/Routes/Rules >------`: keepalived-rs does not install them
/// (yet), so no address is marked `set`.
pub fn write_statics(out: &mut Lines, input: &DumpInput<'_>) {
    let st = &input.config.statics;
    let default_if = input
        .config
        .global
        .default_interface
        .as_deref()
        .unwrap_or("eth0");
    if !st.addresses.is_empty() {
        out.line("------< Static Addresses >------");
        for va in &st.addresses {
            let dev = va.dev.as_deref().unwrap_or(default_if);
            out.line(format!("     {}", vip(va, dev, false)));
        }
    }
    if !st.routes.is_empty() {
        out.line("------< Static Routes >------");
        for r in &st.routes {
            out.line(format!("     {}", r.words.join(" ")));
        }
    }
    if !st.rules.is_empty() {
        out.line("------< Static Rules >------");
        for r in &st.rules {
            out.line(format!("     {}", r.words.join(" ")));
        }
    }
}

/// `------< VRRP Sync groups >------`.
pub fn write_sync_groups(out: &mut Lines, input: &DumpInput<'_>) {
    let groups = &input.config.sync_groups;
    if groups.is_empty() {
        return;
    }
    let views = input.instances();
    out.line("------< VRRP Sync groups >------");
    for grp in groups {
        let members: Vec<_> = views
            .iter()
            .filter(|v| grp.group.iter().any(|m| m == v.inst.name()))
            .collect();
        let state = input
            .router
            .groups()
            .iter()
            .find(|g| g.name() == grp.name)
            .map_or(State::Init, |g| g.state());
        out.line(format!(
            " VRRP Sync Group = {}, {}",
            grp.name,
            state_str(state)
        ));
        let faults = members
            .iter()
            .filter(|v| v.inst.state() == State::Fault)
            .count();
        let inits = members
            .iter()
            .filter(|v| v.inst.state() == State::Init)
            .count();
        out.line(format!(
            "   Num member fault {faults}, num member init {inits}"
        ));
        if !grp.group.is_empty() {
            out.line("   VRRP member instances :");
            for m in &grp.group {
                out.line(format!("     {m}"));
            }
        }
        if grp.sync_group_tracking_weight {
            out.line("   sync group tracking weight set");
        }
        let gd = &input.config.global;
        let smtp = grp
            .smtp_alert
            .or(gd.smtp_alert_vrrp)
            .or(gd.smtp_alert)
            .unwrap_or(false);
        out.line(format!("   Using smtp notification = {}", yn(smtp)));
        if let Some(n) = grp.notify_priority_changes {
            out.line(format!("   Notify priority changes = {}", yn(n)));
        }
        tracker_lists(out, input, &grp.track);
        let n = &grp.notify;
        for (script, what) in [
            (&n.backup, "Backup"),
            (&n.master, "Master"),
            (&n.fault, "Fault"),
            (&n.stop, "Stop"),
            (&n.generic, "Generic"),
        ] {
            if let Some(s) = script {
                notify_script(out, input, s, what);
            }
        }
    }
}

/// The latest value the instances hold for tracker `name` of `kind`.
fn tracker_value(input: &DumpInput<'_>, kind: TrackerKind, name: &str) -> Option<TrackerValue> {
    input.router.instances().iter().find_map(|i| {
        i.tracker_values()
            .find(|(t, _)| t.kind == kind && t.name == name)
            .map(|(_, v)| v)
    })
}

fn tracking_line(out: &mut Lines, name: &str, (weight, reverse): (i32, bool)) {
    out.line(format!(
        "     {name}, weight {weight}{}",
        if reverse { " reverse" } else { "" }
    ));
}

/// `------< VRRP Scripts >------`.
pub fn write_scripts(out: &mut Lines, input: &DumpInput<'_>) {
    let scripts = &input.config.vrrp_scripts;
    if scripts.is_empty() {
        return;
    }
    out.line("------< VRRP Scripts >------");
    for s in scripts {
        out.line(format!(" VRRP Script = {}", s.name));
        out.line(format!(
            "   Command = {}",
            s.script.as_ref().map(cmd_str).unwrap_or_default()
        ));
        out.line(format!("   Interval = {} sec", s.interval.as_secs()));
        // keepalived prints the configured timeout: 0 when none is given.
        out.line(format!(
            "   Timeout = {} sec",
            s.timeout.map_or(0, |t| t.as_secs())
        ));
        out.line(format!(
            "   Weight = {}{}",
            s.weight,
            if s.weight_reverse { " reverse" } else { "" }
        ));
        out.line(format!("   Rise = {}", s.rise));
        out.line(format!("   Fall = {}", s.fall));
        let good = match tracker_value(input, TrackerKind::Script, &s.name) {
            Some(TrackerValue::Up(up)) => up,
            Some(TrackerValue::File(v)) => v == 0,
            None => !s.init_fail,
        };
        // keepalived's result counter: rise + fall - 1 once good, below rise when bad.
        let result = if good {
            s.rise.saturating_add(s.fall).saturating_sub(1)
        } else {
            0
        };
        out.line(format!("   Result = {result}"));
        out.line("   Insecure = no");
        out.line("   Init state = unknown");
        out.line(format!("   Status = {}", if good { "GOOD" } else { "BAD" }));
        let user = s.user.as_ref().or(input.config.global.script_user.as_ref());
        let (uid, gid) = input.os.ids_of(user);
        out.line(format!("   Script uid:gid = {uid}:{gid}"));
        out.line("   VRRP instances :");
        let tracking: Vec<(&str, &TrackRef)> = input
            .config
            .vrrp_instances
            .iter()
            .flat_map(|i| {
                i.track
                    .scripts
                    .iter()
                    .filter(|r| r.name == s.name)
                    .map(move |r| (i.name.as_str(), r))
            })
            .collect();
        if !tracking.is_empty() {
            out.line("   Tracking instances :");
            for (iname, r) in tracking {
                tracking_line(out, iname, script_weight(input, r));
            }
        }
        out.line("   State = idle");
    }
}

/// `------< VRRP Track files >------`.
pub fn write_track_files(out: &mut Lines, input: &DumpInput<'_>) {
    let files = &input.config.track_files;
    if files.is_empty() {
        return;
    }
    out.line("------< VRRP Track files >------");
    for f in files {
        out.line(format!(" Track file = {}", f.name));
        out.line(format!("   File = {}", f.file.as_deref().unwrap_or("")));
        let status = match tracker_value(input, TrackerKind::File, &f.name) {
            Some(TrackerValue::File(v)) => v,
            _ => f.init_file.map_or(0, |(v, _)| v),
        };
        out.line(format!("   Status = {status}"));
        out.line(format!(
            "   Weight = {}{}",
            f.weight,
            if f.reverse { " reverse" } else { "" }
        ));
        let tracking: Vec<(&str, &TrackRef)> = input
            .config
            .vrrp_instances
            .iter()
            .flat_map(|i| {
                i.track
                    .files
                    .iter()
                    .filter(|r| r.name == f.name)
                    .map(move |r| (i.name.as_str(), r))
            })
            .collect();
        if !tracking.is_empty() {
            out.line("   Tracking instances :");
            for (iname, r) in tracking {
                tracking_line(out, iname, file_weight(input, r));
            }
        }
    }
}
