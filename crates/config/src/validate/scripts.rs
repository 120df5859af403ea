//! Script users and script security, as keepalived checks them (`lib/notify.c`
//! `check_script_secure`, `vrrp.c` `check_vrrp_script_security`).
//!
//! keepalived reports "SECURITY VIOLATION - scripts are being executed but script_security
//! not enabled." (exit 6) only when a configured script is actually *found* on the system
//! (after a `$PATH` search for bare names); scripts that do not exist are disabled instead.

use super::Report;
use crate::diag::{ConfigClass, Diagnostic};
use crate::host::{FileMeta, Host};
use crate::model::{Config, Script, ScriptUser};
use std::path::{Path, PathBuf};

/// The `$PATH` keepalived searches bare script names in.
const SEARCH_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Who a script runs as: `None` for a uid we cannot resolve (treated as non-root).
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: Option<u32>,
}

impl RunAs {
    const ROOT: RunAs = RunAs { uid: Some(0) };
    fn is_root(self) -> bool {
        self.uid == Some(0)
    }
}

/// The outcome of checking one script, like keepalived's `SC_*` flags.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    /// The file was found: it would be executed (`SC_ISSCRIPT`).
    is_script: bool,
    /// Not found or not accessible (`SC_NOTFOUND`).
    not_found: bool,
    /// Executable by its user (`SC_EXECUTABLE`).
    executable: bool,
    /// `< /path` file-open test rather than a script (`SC_SYSTEM`).
    system: bool,
    /// A path component is writable by non-root (`SC_INSECURE`).
    insecure: bool,
    /// Must not run (`SC_INHIBIT`).
    inhibit: bool,
}

impl Flags {
    fn merge(&mut self, o: Flags) {
        self.is_script |= o.is_script;
        self.insecure |= o.insecure;
    }
    /// Whether keepalived keeps the script.
    fn runs(self) -> bool {
        !self.inhibit && !self.not_found && (self.executable || self.system)
    }
}

/// The default script user: `script_user`, else `keepalived_script`, else root (refused
/// with `enable_script_security`). `Err` when no default can be set.
fn default_user(
    config: &Config,
    host: &dyn Host,
    r: &mut Report,
    reported: &mut bool,
) -> Result<RunAs, ()> {
    if let Some(su) = &config.global.script_user {
        return resolve_user(host, su).ok_or(());
    }
    if host.user_exists("keepalived_script") {
        return Ok(RunAs {
            uid: host.user_uid("keepalived_script"),
        });
    }
    if config.global.enable_script_security {
        if !*reported {
            *reported = true;
            r.push(
                Diagnostic::warning(
                    None,
                    "Unable to set default user keepalived_script for script",
                )
                .with_hint("create the keepalived_script user, or set script_user in global_defs"),
            );
        }
        return Err(());
    }
    Ok(RunAs::ROOT)
}

fn resolve_user(host: &dyn Host, su: &ScriptUser) -> Option<RunAs> {
    if !host.user_exists(&su.user) {
        return None;
    }
    if su.group.as_deref().is_some_and(|g| !host.group_exists(g)) {
        return None;
    }
    let uid = if su.user == "root" || su.user == "0" {
        Some(0)
    } else {
        host.user_uid(&su.user)
    };
    Some(RunAs { uid })
}

/// Finds the file a script would execute: `$PATH` search for bare names, relative names
/// against the config's directory.
fn locate(host: &dyn Host, prog: &str, base: &Path) -> Option<(PathBuf, FileMeta)> {
    if !prog.contains('/') {
        return SEARCH_PATH.iter().find_map(|d| {
            let p = Path::new(d).join(prog);
            host.file_meta(&p).filter(|m| !m.is_dir).map(|m| (p, m))
        });
    }
    let p = if Path::new(prog).is_absolute() {
        PathBuf::from(prog)
    } else {
        base.join(prog)
    };
    host.file_meta(&p).map(|m| (p, m))
}

fn executable_by(meta: &FileMeta, who: RunAs) -> bool {
    if who.is_root() {
        return meta.executable || meta.mode & 0o111 != 0;
    }
    match who.uid {
        Some(uid) if uid == meta.uid => meta.mode & 0o100 != 0,
        _ => meta.mode & 0o001 != 0,
    }
}

/// keepalived's `check_security`: every component of the path must be root-owned and not
/// writable by others (directories may be with the sticky bit).
fn path_insecure(host: &dyn Host, path: &Path) -> Option<bool> {
    let mut acc = PathBuf::new();
    for comp in path.components() {
        acc.push(comp);
        let m = host.file_meta(&acc)?;
        let sticky = m.mode & 0o1000 != 0;
        let writable = (m.gid != 0 && m.mode & 0o020 != 0) || m.mode & 0o002 != 0;
        if m.uid != 0 || ((!m.is_dir || !sticky) && writable) {
            return Some(true);
        }
    }
    Some(false)
}

fn check_one(host: &dyn Host, script: &Script, who: RunAs, base: &Path, security: bool) -> Flags {
    let mut f = Flags::default();
    let Some(prog) = script.argv.first() else {
        f.not_found = true;
        return f;
    };
    if let Some(rest) = prog.strip_prefix('<') {
        if rest.trim_start_matches([' ', '\t']).starts_with('/') {
            f.system = true;
            return f;
        }
    }
    let Some((path, meta)) = locate(host, prog, base) else {
        f.not_found = true;
        return f;
    };
    f.is_script = true;
    f.executable = executable_by(&meta, who);
    let setid_root = (meta.uid == 0 && meta.mode & 0o4100 == 0o4100)
        || (meta.gid == 0 && meta.mode & 0o2010 == 0o2010);
    if f.executable && (who.is_root() || setid_root) {
        match path_insecure(host, &path) {
            None => f.not_found = true,
            Some(true) => {
                f.insecure = true;
                f.inhibit = security;
            }
            Some(false) => {}
        }
    }
    f
}

/// Resolves `vrrp_script` users as keepalived does at the end of each block, removing the
/// scripts whose user cannot be set.
pub fn resolve_users(config: &mut Config, host: &dyn Host, r: &mut Report) {
    let mut reported_default = false;
    let mut scripts = std::mem::take(&mut config.vrrp_scripts);
    scripts.retain(|s| match &s.user {
        Some(u) => {
            let ok = resolve_user(host, u).is_some();
            if !ok {
                r.warn(
                    s.loc,
                    format!(
                        "Unable to set uid/gid for script {}",
                        s.script.as_ref().map_or("", |x| x.command.as_str())
                    ),
                );
            }
            ok
        }
        None => {
            let ok = default_user(config, host, r, &mut reported_default).is_ok();
            if !ok {
                r.warn(
                    s.loc,
                    format!(
                        "Unable to set default user for vrrp script {} - removing",
                        s.name
                    ),
                );
            }
            ok
        }
    });
    config.vrrp_scripts = scripts;
    // Notify scripts without their own user take the default one when parsed.
    if notify_needs_default(config) {
        let _ = default_user(config, host, r, &mut reported_default);
    }
}

/// Whether a VRRP notify script (instance, sync group or FIFO) has no user of its own.
fn notify_needs_default(config: &Config) -> bool {
    config
        .vrrp_instances
        .iter()
        .flat_map(|v| v.notify.scripts().map(|(_, s)| s))
        .chain(
            config
                .sync_groups
                .iter()
                .flat_map(|g| g.notify.scripts().map(|(_, s)| s)),
        )
        .chain(config.global.notify_fifo.script.iter())
        .chain(config.global.vrrp_notify_fifo.script.iter())
        .any(|s| s.user.is_none())
}

/// Checks script security for the VRRP side, removing scripts keepalived would refuse, and
/// reports the SECURITY VIOLATION when scripts would run without `enable_script_security`.
pub fn check(config: &mut Config, host: &dyn Host, base: &Path, r: &mut Report) {
    let security = config.global.enable_script_security;
    let mut reported_default = true;
    // Only a script without a user of its own needs the default user: a configuration
    // without one costs no user database lookup (NSS may be LDAP) at each reload.
    let default =
        if config.vrrp_scripts.iter().any(|s| s.user.is_none()) || notify_needs_default(config) {
            default_user(config, host, r, &mut reported_default)
        } else {
            Ok(RunAs::ROOT)
        };
    let scripts = std::mem::take(&mut config.vrrp_scripts);
    let script_users: Vec<RunAs> = scripts
        .iter()
        .map(|s| match &s.user {
            Some(u) => resolve_user(host, u).unwrap_or(RunAs::ROOT),
            None => default.unwrap_or(RunAs::ROOT),
        })
        .collect();

    if config.vrrp_instances.is_empty() {
        config.vrrp_scripts = scripts;
        return;
    }

    let mut total = Flags::default();
    let mut kept = Vec::with_capacity(scripts.len());
    for (s, who) in scripts.into_iter().zip(script_users) {
        let Some(sc) = &s.script else { continue };
        let f = check_one(host, sc, who, base, security);
        total.merge(f);
        if f.inhibit {
            r.warn(
                s.loc,
                format!("Disabling track script {} due to insecure", s.name),
            );
        } else if f.not_found {
            r.push(
                Diagnostic::warning(
                    s.loc,
                    format!(
                        "Disabling track script {} since not found/accessible",
                        s.name
                    ),
                )
                .with_hint(format!(
                    "'{}' does not exist or cannot be read",
                    sc.argv.first().map_or("", String::as_str)
                )),
            );
        }
        if f.runs() {
            kept.push(s);
        }
    }
    let kept_names: std::collections::HashSet<String> =
        kept.iter().map(|s| s.name.clone()).collect();
    config.vrrp_scripts = kept;

    // Whether the script may stay; a refused one is reported here and cleared by the caller.
    let check_notify = |slot: Option<&Script>, total: &mut Flags, r: &mut Report| -> bool {
        let Some(sc) = slot else { return true };
        let who = match &sc.user {
            Some(u) => resolve_user(host, u),
            None => default.ok(),
        };
        let Some(who) = who else {
            r.push(
                Diagnostic::warning(
                    sc.loc,
                    format!(
                        "Invalid user/group for notify script {} - ignoring",
                        sc.command
                    ),
                )
                .with_class(ConfigClass::Ok),
            );
            return false;
        };
        let f = check_one(host, sc, who, base, security);
        total.merge(f);
        if !f.runs() {
            if f.not_found {
                r.push(
                    Diagnostic::warning(
                        sc.loc,
                        format!("notify script {} not found - it will not run", sc.command),
                    )
                    .with_class(ConfigClass::Ok),
                );
            }
            return false;
        }
        true
    };
    for v in &mut config.vrrp_instances {
        let n = &mut v.notify;
        for slot in [
            &mut n.backup,
            &mut n.master,
            &mut n.fault,
            &mut n.stop,
            &mut n.deleted,
            &mut n.generic,
            &mut n.master_rx_lower_pri,
        ] {
            if !check_notify(slot.as_deref(), &mut total, r) {
                *slot = None;
            }
        }
        v.track.scripts.retain(|t| kept_names.contains(&t.name));
    }
    for g in &mut config.sync_groups {
        let n = &mut g.notify;
        for slot in [
            &mut n.backup,
            &mut n.master,
            &mut n.fault,
            &mut n.stop,
            &mut n.generic,
        ] {
            if !check_notify(slot.as_deref(), &mut total, r) {
                *slot = None;
            }
        }
        g.track.scripts.retain(|t| kept_names.contains(&t.name));
    }
    for fifo in [
        &mut config.global.notify_fifo,
        &mut config.global.vrrp_notify_fifo,
    ] {
        if !check_notify(fifo.script.as_ref(), &mut total, r) {
            fifo.script = None;
        }
    }

    if !security && total.is_script {
        r.push(
            Diagnostic::error(
                None,
                format!(
                    "SECURITY VIOLATION - scripts are being executed but script_security not enabled.{}",
                    if total.insecure { " There are insecure scripts." } else { "" }
                ),
            )
            .with_class(ConfigClass::Security)
            .with_hint("add 'enable_script_security' to global_defs (and a script_user, or a keepalived_script user)"),
        );
    }
}

/// `startup_script` / `shutdown_script`, checked by the parent.
pub fn check_start_stop(config: &mut Config, host: &dyn Host, base: &Path, r: &mut Report) {
    if config.global.startup_script.is_none() && config.global.shutdown_script.is_none() {
        return;
    }
    let security = config.global.enable_script_security;
    let mut reported = true;
    let who = default_user(config, host, r, &mut reported).unwrap_or(RunAs::ROOT);
    let mut total = Flags::default();
    for slot in [
        &mut config.global.startup_script,
        &mut config.global.shutdown_script,
    ] {
        if let Some(sc) = slot.as_ref() {
            let f = check_one(host, sc, who, base, security);
            total.merge(f);
            if !f.runs() {
                *slot = None;
            }
        }
    }
    if !security && total.is_script {
        r.push(
            Diagnostic::error(
                None,
                format!(
                    "SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.{}",
                    if total.insecure { " There are insecure scripts." } else { "" }
                ),
            )
            .with_class(ConfigClass::Security),
        );
    }
}
