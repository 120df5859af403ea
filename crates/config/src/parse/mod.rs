//! From logical lines to the typed model: top-level dispatch and one module per block family.
//!
//! See [`framework`] for how blocks are walked and how to add one.

pub mod address;
pub mod framework;
pub mod global;
pub mod lvs;
pub mod misc;
pub mod vrrp;

use crate::lexer::Line;
use crate::model::Config;
use framework::{block, build_tree, either, kw, walk, Ctx, Keyword};

/// The top-level keyword table.
pub(crate) const TOP: &[Keyword<Config>] = &[
    block("global_defs", global::global_defs),
    kw("net_namespace", misc::top_string),
    kw("net_namespace_ipvs", misc::top_string),
    kw("namespace_with_ipsets", |_, c, _| {
        c.namespace_with_ipsets = true
    }),
    kw("use_pid_dir", |_, c, _| c.use_pid_dir = true),
    kw("instance", misc::top_string),
    kw("child_wait_time", misc::child_wait_time),
    kw("linkbeat_use_polling", |_, c, _| {
        c.linkbeat_use_polling = true
    }),
    block("linkbeat_interfaces", misc::linkbeat_interfaces),
    block("interface_up_down_delays", misc::interface_up_down_delays),
    block("track_group", misc::track_group),
    block("static_ipaddress", misc::static_ipaddress),
    block("static_routes", misc::static_routes),
    block("static_rules", misc::static_routes),
    block("track_file", misc::track_file),
    block("vrrp_track_file", misc::track_file),
    block("vrrp_track_process", misc::track_process),
    block("vrrp_script", vrrp::vrrp_script),
    block("vrrp_sync_group", vrrp::vrrp_sync_group),
    block("garp_group", misc::garp_group),
    block("vrrp_instance", vrrp::vrrp_instance),
    block("bfd_instance", misc::bfd_instance),
    block("virtual_server", lvs::virtual_server),
    block("virtual_server_group", lvs::virtual_server_group),
    either("SSL", lvs::ssl),
];

/// Where a keyword belongs, when it is not valid where it was written: the block whose
/// table has it (for a "belongs in" hint on unknown keywords).
pub fn keyword_home(name: &str) -> Option<&'static str> {
    let homes: [(&'static str, Vec<&'static str>); 5] = [
        ("the top level", TOP.iter().map(|k| k.name).collect()),
        (
            "global_defs",
            global::GLOBAL.iter().map(|k| k.name).collect(),
        ),
        (
            "vrrp_instance",
            vrrp::INSTANCE.iter().map(|k| k.name).collect(),
        ),
        ("vrrp_script", vrrp::SCRIPT.iter().map(|k| k.name).collect()),
        (
            "vrrp_sync_group",
            vrrp::SYNC_GROUP.iter().map(|k| k.name).collect(),
        ),
    ];
    homes
        .into_iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(home, _)| home)
}

/// Parses logical lines into a [`Config`], reporting problems to `ctx`.
pub fn parse(lines: Vec<Line<'_>>, ctx: &mut Ctx) -> Config {
    let tree = build_tree(lines, ctx);
    let mut config = Config::default();
    // The two lists a large configuration is made of, sized once: grown one by one they
    // would be copied a dozen times (10,000 instances: 16 MB).
    let count = |keyword: &str| tree.iter().filter(|n| n.keyword() == keyword).count();
    config.vrrp_instances.reserve_exact(count("vrrp_instance"));
    config
        .virtual_servers
        .reserve_exact(count("virtual_server"));
    walk(ctx, &mut config, &tree, TOP);
    config
}
