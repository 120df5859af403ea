//! Requests the parent passes on to the children: reload (SIGHUP) and dumps (SIGUSR1, SIGUSR2,
//! JSON, STATS_CLEAR).

use super::{checker_wanted, load_config, log_diagnostics, vrrp_wanted, warn_checker};
use super::{DumpRequest, Supervisor};
use crate::children::ChildKind;
use crate::dumpfile::DumpKind;
use crate::os::PidLock;
use crate::reload::{unchangeable_setting, ReloadRequest};
use keepalived_config::{cannot_run, Config, ConfigClass, Severity};
use keepalived_ipc::{delta, DumpFormat, InstanceBytes, ToChild};
use log::{error, info, warn};
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
        // The VRRP child is sent only the instances that changed, before anything else is
        // encoded: the encoding of the whole model for the other children (and for the
        // children started later) then overlaps its work.
        let mut new = new;
        let (vrrp_frame, running_instances) = match self.vrrp_delta_frame(&mut new) {
            Ok(d) => d,
            Err(e) => {
                error!("cannot encode the new configuration for the children: {e}");
                self.reload_refused();
                return;
            }
        };
        stages.lap("encode delta");
        let now = Instant::now();
        let mut sent = Vec::new();
        let mut want_whole = Vec::new();
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
            match (slot.channel.as_mut(), &vrrp_frame) {
                (Some(ch), Some(delta)) if slot.pid.is_some() && slot.kind == ChildKind::Vrrp => {
                    ch.send_frame(delta);
                    stages.lap("send delta");
                    sent.push(idx);
                }
                (Some(_), _) if slot.pid.is_some() => want_whole.push(idx),
                _ => {
                    if slot.wanted && slot.pid.is_none() && slot.restart_at.is_none() {
                        slot.restart_at = Some(now);
                    }
                }
            }
        }
        drop(vrrp_frame);
        // One encoding of the whole model for the other children, and afterwards for the
        // children started later.
        let reload = ToChild::Reload { config: new };
        let reload_frame = keepalived_ipc::encode(&reload);
        stages.lap("encode");
        let ToChild::Reload { config: new } = reload else {
            return;
        };
        let mut reload_frame = match reload_frame {
            Ok(f) => f,
            Err(e) if sent.is_empty() => {
                error!("cannot encode the new configuration for the children: {e}");
                self.reload_refused();
                return;
            }
            Err(e) => {
                // Not seen in practice: the change the VRRP child got holds the same data.
                error!("cannot encode the new configuration for the other children: {e}");
                self.running_instances = None;
                if self.reloads.started(sent) {
                    self.reload_complete();
                }
                return;
            }
        };
        self.running_instances = running_instances;
        for &idx in &want_whole {
            if let Some(ch) = self.slots.get_mut(idx).and_then(|s| s.channel.as_mut()) {
                ch.send_frame(&reload_frame);
                stages.lap("send");
                sent.push(idx);
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

    /// The `ReloadDelta` frame for the VRRP child (`None` when the running instances are not
    /// known: it is then sent the whole model), and the encoding of `new`'s instances, which
    /// becomes the base of the next one once `new` is the running configuration. `new` is
    /// as it was when this returns.
    fn vrrp_delta_frame(
        &self,
        new: &mut Config,
    ) -> Result<(Option<Vec<u8>>, Option<InstanceBytes>), keepalived_ipc::EncodeError> {
        let encoded = match InstanceBytes::encode(&new.vrrp_instances) {
            Ok(e) => e,
            Err(e) => {
                // The whole model's encoding, next, reports it (and refuses the reload).
                log::debug!("instances not encoded one by one: {e}");
                return Ok((None, None));
            }
        };
        let Some(base) = self.running_instances.as_ref() else {
            return Ok((None, Some(encoded)));
        };
        let Ok(base_len) = u32::try_from(base.len()) else {
            return Ok((None, Some(encoded)));
        };
        let order = encoded.changes_from(base);
        let mut all = std::mem::take(&mut new.vrrp_instances);
        new.vrrp_instances = delta::take_sent(&mut all, &order);
        let msg = ToChild::ReloadDelta {
            base_len,
            config: Box::new(std::mem::take(new)),
            order,
        };
        let frame = keepalived_ipc::encode(&msg);
        if let ToChild::ReloadDelta { config, order, .. } = msg {
            *new = *config;
            let sent = std::mem::take(&mut new.vrrp_instances);
            delta::put_back(&mut all, &order, sent);
        }
        new.vrrp_instances = all;
        Ok((Some(frame?), Some(encoded)))
    }

    /// A child could not apply a `ReloadDelta`: it is sent the whole running model.
    pub(super) fn resend_whole(&mut self, idx: usize) {
        let mut frame = self.start_frame.clone();
        let channel = self.slots.get_mut(idx).and_then(|s| s.channel.as_mut());
        match channel {
            Some(ch) if keepalived_ipc::retag_start_as_reload(&mut frame) => {
                warn!(
                    "sending the whole configuration to the child that could not apply the change"
                );
                ch.send_frame(&frame);
            }
            _ => {
                error!("cannot send the whole configuration to the child: reload abandoned");
                self.reload_step_done(idx);
            }
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
