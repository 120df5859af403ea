//! Semantic checks over the parsed model, with keepalived's outcome classes.
//!
//! The checks follow keepalived 2.2.7's `--config-test`: the lookups its parsers make
//! against the live system (interfaces, users, script files, host names) and the checks of
//! `vrrp_complete_init()`. Like keepalived they also normalise the model: invalid values get
//! keepalived's defaults and refused entries are removed, so the returned config is what
//! keepalived would run.

mod lvs;
mod scripts;
mod vrrp;

use crate::diag::Diagnostic;
use crate::host::{CachedHost, Host};
use crate::model::Config;
use crate::source::Loc;
use std::path::Path;

/// Collects findings; small helpers keep the checks readable.
pub(crate) struct Report<'a> {
    diags: &'a mut Vec<Diagnostic>,
}

impl Report<'_> {
    /// Records a diagnostic.
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// A `General` warning (keepalived counts it as a config error).
    pub(crate) fn warn(&mut self, loc: Option<Loc>, message: impl Into<String>) {
        self.diags.push(Diagnostic::warning(loc, message));
    }
}

/// Runs every semantic check, pushing findings to `diags`. Relative script paths are
/// resolved against the current directory.
pub fn validate(config: &mut Config, host: &dyn Host, diags: &mut Vec<Diagnostic>) {
    validate_in(config, host, Path::new("."), diags);
}

/// Runs every semantic check; `base` is the directory of the main config file, against
/// which keepalived (run from there) resolves relative script paths.
pub fn validate_in(config: &mut Config, host: &dyn Host, base: &Path, diags: &mut Vec<Diagnostic>) {
    let cached = CachedHost::new(host);
    let host: &dyn Host = &cached;
    let mut r = Report { diags };
    if let Some(ns) = &config.net_namespace {
        if !host.netns_exists(ns) {
            r.push(
                Diagnostic::warning(
                    None,
                    format!("network namespace {ns} does not exist here: interfaces are checked in the current namespace"),
                )
                .with_class(crate::diag::ConfigClass::Ok),
            );
        }
    }
    scripts::check_start_stop(config, host, base, &mut r);
    // What keepalived's VRRP parser looks up while reading the config.
    let mut missing_if = vrrp::check_globals(config, host, &mut r);
    missing_if |= vrrp::check_instance_interfaces(config, host, &mut r);
    missing_if |= vrrp::check_route_interfaces(config, host, &mut r);
    scripts::resolve_users(config, host, &mut r);
    missing_if |= vrrp::check_trackers(config, host, &mut r);
    if missing_if {
        // keepalived stops the VRRP side here, before completing any instance.
        r.push(
            Diagnostic::error(None, "Non-existent interface specified in configuration")
                .with_class(crate::diag::ConfigClass::BadInterface),
        );
    } else {
        scripts::check(config, host, base, &mut r);
        vrrp::check_instances(config, &mut r);
        vrrp::check_lvs_syncd(config, &mut r);
        vrrp::check_unused_scripts(config, &mut r);
    }
    lvs::check(config, host, r.diags);
}

#[cfg(test)]
mod tests;
