//! Requests the parent passes on to the children: reload (SIGHUP) and dumps (SIGUSR1, SIGUSR2,
//! JSON, STATS_CLEAR).

use super::{load_config, log_diagnostics, warn_checker};
use super::{DumpRequest, Supervisor};
use crate::children::ChildKind;
use crate::os::PidLock;
use crate::reload::{unchangeable_setting, ReloadRequest};
use keepalived_config::{cannot_run, ConfigClass, Severity};
use keepalived_ipc::{DumpFormat, ToChild};
use log::{error, info};
use std::time::Instant;

impl Supervisor<'_> {
    pub(super) fn reload(&mut self) {
        if self.stop_deadline.is_some() {
            return;
        }
        if self.reloads.request() == ReloadRequest::Queued {
            info!("Reload requested while a reload is running: queued");
            return;
        }
        info!("Reloading ...");
        let loaded = load_config(&self.opts, self.host);
        log_diagnostics(&loaded);
        // A reload is stricter than a start: any error keeps the running configuration, except
        // the script-security finding, which keepalived reports but runs with.
        if cannot_run(&loaded.diagnostics)
            || loaded
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error && d.class != ConfigClass::Security)
        {
            error!("The new configuration has errors: keeping the running configuration");
            return;
        }
        if let Some(what) = unchangeable_setting(&self.config, &loaded.config) {
            error!("Cannot change {what} at a reload - please restart");
            return;
        }
        *self.config = loaded.config;
        // Instances gone from the configuration must not be resumed by a later respawn.
        let names: std::collections::HashSet<&str> = self
            .config
            .vrrp_instances
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        for slot in &mut self.slots {
            slot.last_states
                .retain(|name, _| names.contains(name.as_str()));
        }
        let check_enabled = self.opts.only_check || !self.opts.only_vrrp;
        warn_checker(&self.config, check_enabled);
        let vrrp_enabled = self.opts.only_vrrp || !self.opts.only_check;
        let vrrp_wanted = vrrp_enabled && (self.opts.all || !self.config.vrrp_instances.is_empty());
        let now = Instant::now();
        let mut sent = Vec::new();
        for (idx, slot) in self.slots.iter_mut().enumerate() {
            if slot.kind == ChildKind::Vrrp && vrrp_wanted && !slot.wanted {
                slot.wanted = true;
                if slot.pid_file.is_none() {
                    match PidLock::create(&self.vrrp_pid_path, self.parent_pid) {
                        Ok(p) => slot.pid_file = Some(p),
                        Err(e) => {
                            error!("cannot start the VRRP child: {e}");
                            slot.wanted = false;
                            continue;
                        }
                    }
                }
            }
            match slot.channel.as_mut() {
                Some(ch) if slot.pid.is_some() => {
                    ch.send(&ToChild::Reload {
                        config: self.config.clone(),
                    });
                    sent.push(idx);
                }
                _ => {
                    if slot.wanted && slot.pid.is_none() && slot.restart_at.is_none() {
                        slot.restart_at = Some(now);
                    }
                }
            }
        }
        if self.reloads.started(sent) {
            info!("Reload complete");
        }
    }

    /// Child `idx` finished its part of a reload (answered or died).
    pub(super) fn reload_step_done(&mut self, idx: usize) {
        if let Some(run_queued) = self.reloads.child_done(idx) {
            info!("Reload complete");
            if run_queued {
                self.reload();
            }
        }
    }

    pub(super) fn request_dump(&mut self, what: DumpRequest) {
        let id = self.next_request;
        self.next_request = self.next_request.wrapping_add(1);
        let Some(ch) = self
            .slots
            .iter_mut()
            .find(|s| s.kind == ChildKind::Vrrp)
            .and_then(|s| s.channel.as_mut())
        else {
            info!("no VRRP child running: nothing to dump");
            return;
        };
        let (msg, name) = match what {
            DumpRequest::Data => (
                ToChild::Dump {
                    id,
                    format: DumpFormat::Data,
                },
                "keepalived.data",
            ),
            DumpRequest::Json => (
                ToChild::Dump {
                    id,
                    format: DumpFormat::Json,
                },
                "keepalived.json",
            ),
            DumpRequest::Stats { clear } => (ToChild::Stats { id, clear }, "keepalived.stats"),
        };
        ch.send(&msg);
        self.pending_dumps.insert(id, name);
    }
}
