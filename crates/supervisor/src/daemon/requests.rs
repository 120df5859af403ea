//! Requests the parent passes on to the children: reload (SIGHUP) and dumps (SIGUSR1, SIGUSR2,
//! JSON, STATS_CLEAR).

use super::{checker_wanted, load_config, log_diagnostics, vrrp_wanted, warn_checker};
use super::{DumpRequest, Supervisor};
use crate::children::ChildKind;
use crate::dumpfile::DumpKind;
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
        let mut stages = keepalived_sys::stages::Stages::start();
        self.prepare_vrrp_reload();
        self.notifier.reloading();
        let loaded = load_config(&self.opts, self.host);
        stages.lap("parse");
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
            self.reload_refused();
            return;
        }
        if let Some(what) = unchangeable_setting(&self.config, &loaded.config) {
            error!("Cannot change {what} at a reload - please restart");
            self.reload_refused();
            return;
        }
        stages.lap("checks");
        let new = Box::new(loaded.config);
        // The new source text and diagnostics are freed before the trim below.
        drop(loaded.diagnostics);
        drop(loaded.sources);
        // Instances gone from the configuration must not be resumed by a later respawn.
        let names: std::collections::HashSet<&str> =
            new.vrrp_instances.iter().map(|i| i.name.as_str()).collect();
        for slot in &mut self.slots {
            slot.last_states
                .retain(|name, _| names.contains(name.as_str()));
        }
        let scripts: std::collections::HashSet<&str> =
            new.vrrp_scripts.iter().map(|s| s.name.as_str()).collect();
        self.script_states
            .retain(|name, _| scripts.contains(name.as_str()));
        warn_checker(&self.opts, &new, self.has_checker);
        let vrrp_wanted = vrrp_wanted(&self.opts, &new);
        let checker_wanted = checker_wanted(&self.opts, &new);
        // One encoding for every child, and afterwards for the children started later.
        let reload = ToChild::Reload { config: new };
        let mut reload_frame = match keepalived_ipc::encode(&reload) {
            Ok(f) => f,
            Err(e) => {
                error!("cannot encode the new configuration for the children: {e}");
                self.reload_refused();
                return;
            }
        };
        stages.lap("encode");
        let ToChild::Reload { config: new } = reload else {
            return;
        };
        let now = Instant::now();
        let mut sent = Vec::new();
        for (idx, slot) in self.slots.iter_mut().enumerate() {
            let (wanted_now, pid_path) = match slot.kind {
                ChildKind::Vrrp => (vrrp_wanted, &self.vrrp_pid_path),
                ChildKind::Checker => (checker_wanted, &self.checker_pid_path),
            };
            if wanted_now && !slot.wanted {
                slot.wanted = true;
                if slot.pid_file.is_none() {
                    match PidLock::create(pid_path, self.parent_pid) {
                        Ok(p) => slot.pid_file = Some(p),
                        Err(e) => {
                            error!("cannot start the {} child: {e}", slot.kind.label());
                            slot.wanted = false;
                            continue;
                        }
                    }
                }
            }
            match slot.channel.as_mut() {
                Some(ch) if slot.pid.is_some() => {
                    ch.send_frame(&reload_frame);
                    stages.lap("send");
                    sent.push(idx);
                }
                _ => {
                    if slot.wanted && slot.pid.is_none() && slot.restart_at.is_none() {
                        slot.restart_at = Some(now);
                    }
                }
            }
        }
        // The children have the new model: the frame becomes the `Start` of children started
        // later, and the parent keeps only its own settings (the rest is freed now, after the
        // sends, not before them).
        if keepalived_ipc::retag_reload_as_start(&mut reload_frame) {
            reload_frame.shrink_to_fit();
            self.start_frame = reload_frame;
            *self.config = super::parent_settings(*new);
        } else if let Some((settings, start_frame)) = super::keep_for_parent(new) {
            self.config = settings;
            self.start_frame = start_frame;
        }
        stages.lap("keep");
        log::debug!("reload stages (ms): {}", stages.summary());
        // The old config and the parse's temporaries are freed; their pages go back once the
        // children have answered (`reload_complete`), so the trim does not take CPU from the
        // VRRP child while it applies the reload.
        if self.reloads.started(sent) {
            self.reload_complete();
        }
    }

    /// Lets the VRRP child dump the kernel's links and addresses while this process reads
    /// the new configuration: the dump then runs on the other core, not after the `Reload`.
    fn prepare_vrrp_reload(&mut self) {
        let vrrp = self
            .slots
            .iter_mut()
            .filter(|s| s.kind == ChildKind::Vrrp && s.pid.is_some())
            .find_map(|s| s.channel.as_mut());
        if let Some(ch) = vrrp {
            ch.send(&ToChild::PrepareReload);
        }
    }

    /// The running configuration stays: systemd is told the reload is over.
    fn reload_refused(&mut self) {
        // The refused model is freed; the parser's code pages leave the resident set again.
        super::shed_unused_memory();
        self.notifier.ready(
            self.parent_pid.unsigned_abs(),
            "Reload refused: running the previous configuration",
        );
    }

    fn reload_complete(&mut self) {
        info!("Reload complete");
        self.notifier
            .ready(self.parent_pid.unsigned_abs(), "Reload complete");
        super::shed_unused_memory();
        self.shed_at = Some(Instant::now() + super::SHED_AFTER_BURST);
    }

    /// Child `idx` finished its part of a reload (answered or died).
    pub(super) fn reload_step_done(&mut self, idx: usize) {
        if let Some(run_queued) = self.reloads.child_done(idx) {
            self.reload_complete();
            if run_queued {
                self.reload();
            }
        }
    }

    /// Asks the children for a dump: the data dump from both (each writes its own file, as
    /// keepalived's processes do), the statistics and JSON from the VRRP child only.
    pub(super) fn request_dump(&mut self, what: DumpRequest) {
        let mut asked = 0;
        for slot in &mut self.slots {
            let Some(ch) = slot.channel.as_mut() else {
                continue;
            };
            let id = self.next_request;
            let (msg, kind) = match (what, slot.kind) {
                (DumpRequest::Data, ChildKind::Vrrp) => (
                    ToChild::Dump {
                        id,
                        format: DumpFormat::Data,
                    },
                    DumpKind::VrrpData,
                ),
                (DumpRequest::Data, ChildKind::Checker) => (
                    ToChild::Dump {
                        id,
                        format: DumpFormat::Data,
                    },
                    DumpKind::CheckData,
                ),
                (DumpRequest::Json, ChildKind::Vrrp) => (
                    ToChild::Dump {
                        id,
                        format: DumpFormat::Json,
                    },
                    DumpKind::Json,
                ),
                (DumpRequest::Stats { clear }, ChildKind::Vrrp) => {
                    (ToChild::Stats { id, clear }, DumpKind::Stats)
                }
                (DumpRequest::Json | DumpRequest::Stats { .. }, ChildKind::Checker) => continue,
            };
            self.next_request = self.next_request.wrapping_add(1);
            ch.send(&msg);
            self.pending_dumps.insert(id, kind);
            asked += 1;
        }
        if asked == 0 {
            info!("no child running that has this dump: nothing written");
        }
    }
}
