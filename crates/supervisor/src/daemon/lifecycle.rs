//! The event loop and the children's life: fork, death, respawn, messages, stop.

use super::{DumpRequest, LoopEnd, Supervisor, JSON_TOKEN, SIGNAL_TOKEN, STATS_CLEAR_TOKEN};
use crate::channel::Channel;
use crate::children::{after_death, AfterDeath, ChildExit, ChildKind};
use crate::dumpfile::{self, DumpKind};
use crate::exit;
use crate::logging::{self};
use crate::os::{self, Forked, PidLock};
use crate::signals::realtime::SelfPipe;
use crate::signals::{action_for, SignalAction};
use keepalived_ipc::{LogLevel, ToChild, ToParent};
use log::{debug, error, info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Token};
use nix::sys::signal::Signal;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

impl Supervisor<'_> {
    pub(super) fn event_loop(&mut self) -> LoopEnd {
        let mut events = Events::with_capacity(16);
        loop {
            let now = Instant::now();
            if let Some(end) = self.start_due_children(now) {
                return end;
            }
            if self.shed_at.is_some_and(|at| now >= at) {
                self.shed_at = None;
                super::shed_unused_memory();
            }
            if let Some(deadline) = self.stop_deadline {
                if self.slots.iter().all(|s| s.pid.is_none()) {
                    return LoopEnd::Parent(self.exit_code);
                }
                if now >= deadline && !self.killed {
                    self.kill_remaining();
                }
            }
            let timeout = self
                .next_deadline()
                .map(|d| d.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    error!("poll failed: {e}");
                    return LoopEnd::Parent(exit::FATAL);
                }
                continue;
            }
            for event in events.iter() {
                match event.token() {
                    SIGNAL_TOKEN => self.handle_signals(),
                    JSON_TOKEN => {
                        if self.rt_json.as_mut().is_some_and(SelfPipe::drain) {
                            self.request_dump(DumpRequest::Json);
                        }
                    }
                    STATS_CLEAR_TOKEN => {
                        if self.rt_stats_clear.as_mut().is_some_and(SelfPipe::drain) {
                            self.request_dump(DumpRequest::Stats { clear: true });
                        }
                    }
                    Token(n) => self.handle_channel(n.saturating_sub(1)),
                }
            }
            for slot in &mut self.slots {
                if let Some(ch) = slot.channel.as_mut().filter(|c| c.pending()) {
                    if let Err(e) = ch.flush() {
                        debug!("IPC write to {} child failed: {e}", slot.kind.label());
                    }
                }
            }
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let restarts = self.slots.iter().filter_map(|s| s.restart_at);
        let stop = self.stop_deadline.filter(|_| !self.killed);
        restarts.chain(stop).chain(self.shed_at).min()
    }

    pub(super) fn start_due_children(&mut self, now: Instant) -> Option<LoopEnd> {
        if self.stop_deadline.is_some() {
            return None;
        }
        for idx in 0..self.slots.len() {
            let due = self
                .slots
                .get(idx)
                .and_then(|s| s.restart_at)
                .is_some_and(|t| t <= now);
            if due {
                if let Some(slot) = self.slots.get_mut(idx) {
                    slot.restart_at = None;
                }
                if let Some(end) = self.spawn(idx) {
                    return Some(end);
                }
            }
        }
        None
    }

    /// Forks the child of slot `idx`. Returns `Some` in the child.
    pub(super) fn spawn(&mut self, idx: usize) -> Option<LoopEnd> {
        let (parent_end, child_end) = match os::socketpair_stream() {
            Ok(pair) => pair,
            Err(e) => {
                error!("cannot create the IPC socketpair: {e}");
                self.retry_later(idx);
                return None;
            }
        };
        let forked = match os::fork() {
            Ok(f) => f,
            Err(e) => {
                error!("cannot fork: {e}");
                self.retry_later(idx);
                return None;
            }
        };
        let pid = match forked {
            Forked::Child => {
                drop(parent_end);
                return Some(LoopEnd::Child(child_end, idx));
            }
            Forked::Parent(pid) => pid,
        };
        drop(child_end);
        let registry_result;
        {
            let slot = self.slots.get_mut(idx)?;
            info!("Starting {} child process, pid={pid}", slot.kind.label());
            slot.pid = Some(pid);
            slot.started = Instant::now();
            slot.ready = false;
            if let Some(p) = slot.pid_file.as_mut() {
                if let Err(e) = p.write_pid(pid) {
                    warn!("cannot write {}: {e}", p.path().display());
                }
            }
            let mut channel = match Channel::new(parent_end) {
                Ok(c) => c,
                Err(e) => {
                    error!("cannot set up the IPC channel: {e}");
                    return None;
                }
            };
            channel.send_frame(&self.start_frame);
            if slot.kind == ChildKind::Vrrp && !slot.last_states.is_empty() {
                let last_states = slot.last_states.values().cloned().collect();
                channel.send(&ToChild::Resume { last_states });
            }
            if slot.kind == ChildKind::Vrrp {
                // A respawned VRRP child learns the script states its predecessor was told.
                for (script, good) in &self.script_states {
                    channel.send(&ToChild::TrackUpdate {
                        script: script.clone(),
                        good: *good,
                    });
                }
            }
            registry_result = self.poll.registry().register(
                &mut SourceFd(&channel.raw_fd()),
                Token(idx + 1),
                Interest::READABLE | Interest::WRITABLE,
            );
            slot.channel = Some(channel);
        }
        if let Err(e) = registry_result {
            error!("cannot watch the IPC channel: {e}");
        }
        None
    }

    pub(super) fn retry_later(&mut self, idx: usize) {
        if let Some(slot) = self.slots.get_mut(idx) {
            slot.restart_at = Some(Instant::now() + Duration::from_secs(1));
        }
    }

    /// In a freshly forked child: drop the parent's descriptors and run the child's main.
    pub(super) fn become_child(mut self, ipc: OwnedFd, idx: usize) -> ExitCode {
        if let Err(e) = os::set_pdeathsig() {
            warn!("cannot set the parent-death signal: {e}");
        }
        if nix::unistd::getppid().as_raw() != self.parent_pid {
            return ExitCode::SUCCESS;
        }
        let detail = self.opts.log.detail;
        let (kind, entry) = match self.slots.get_mut(idx) {
            Some(slot) => (slot.kind, slot.entry.take()),
            None => return ExitCode::from(exit::FATAL),
        };
        for pipe in [self.rt_json.take(), self.rt_stats_clear.take()]
            .into_iter()
            .flatten()
        {
            pipe.uninstall();
        }
        for fd in self.inherited_fds() {
            os::close_inherited(fd);
        }
        let tuning = crate::tuning::settings_for(kind, &self.config.global);
        // The child is sent its own copy of the model: the parent's, inherited with the heap,
        // is freed and its pages given back, so they are not resident twice.
        drop(std::mem::take(&mut self.config));
        drop(std::mem::take(&mut self.start_frame));
        drop(self.running_instances.take());
        keepalived_sys::memory::release_free_heap();
        // The descriptors are closed; their owners must not close them (or remove pid files).
        std::mem::forget(self);
        if let Err(e) = os::unblock_all_signals() {
            warn!("cannot reset the signal mask: {e}");
        }
        logging::set_ident(kind.ident());
        crate::tuning::apply(&tuning);
        // The parent ends a child whose channel closed (SIGTERM). An entry returning drops its
        // end before the process has exited, and that SIGTERM could then turn a deliberate exit
        // code (2: bad config, stop the daemon) into "killed by signal 15" (respawn). A
        // duplicate left open until the process ends makes the parent see the close only then.
        if let Ok(hold) = ipc.try_clone() {
            std::mem::forget(hold);
        }
        let code = match entry {
            Some(mut main) => main(ipc),
            None => return ExitCode::from(exit::FATAL),
        };
        // keepalived's children end with "Stopped" (with -D, the CPU time they used).
        match child_cpu_time().filter(|_| detail) {
            Some(used) => info!("Stopped - used {used}"),
            None => info!("Stopped"),
        }
        code
    }

    pub(super) fn inherited_fds(&self) -> Vec<RawFd> {
        let mut fds = vec![self.signal_fd.as_raw_fd(), self.poll.as_raw_fd()];
        fds.extend(self.notifier.raw_fd());
        fds.extend(self.parent_pid_file.as_ref().map(PidLock::raw_fd));
        for slot in &self.slots {
            fds.extend(slot.pid_file.as_ref().map(PidLock::raw_fd));
            fds.extend(slot.channel.as_ref().map(Channel::raw_fd));
        }
        fds
    }

    pub(super) fn remove_pid_files(&mut self) {
        for slot in &mut self.slots {
            if let Some(p) = slot.pid_file.take() {
                p.remove();
            }
        }
        if let Some(p) = self.parent_pid_file.take() {
            p.remove();
        }
    }

    pub(super) fn handle_signals(&mut self) {
        loop {
            match self.signal_fd.read() {
                Ok(Some(info)) => {
                    let signo = info.signo;
                    match action_for(signo) {
                        SignalAction::Stop => self.begin_stop(exit::OK),
                        SignalAction::Reload => self.reload(),
                        SignalAction::DumpData => self.request_dump(DumpRequest::Data),
                        SignalAction::Stats => {
                            self.request_dump(DumpRequest::Stats { clear: false })
                        }
                        SignalAction::ChildExited => self.reap_children(),
                        SignalAction::Ignore => debug!("ignoring signal {signo}"),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error!("reading the signalfd failed: {e}");
                    break;
                }
            }
        }
    }

    pub(super) fn reap_children(&mut self) {
        for (pid, exit) in os::reap() {
            self.on_child_exit(pid, exit);
        }
    }

    pub(super) fn close_channel(&mut self, idx: usize) {
        if let Some(slot) = self.slots.get_mut(idx) {
            if let Some(ch) = slot.channel.take() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&ch.raw_fd()));
            }
        }
    }

    pub(super) fn on_child_exit(&mut self, pid: i32, how: ChildExit) {
        let Some(idx) = self.slots.iter().position(|s| s.pid == Some(pid)) else {
            debug!("reaped pid {pid} ({how:?})");
            return;
        };
        self.close_channel(idx);
        let stopping = self.stop_deadline.is_some();
        let dont_respawn = self.opts.dont_respawn;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        slot.pid = None;
        slot.ready = false;
        if stopping {
            debug!("{} child process({pid}) exited: {how:?}", slot.kind.label());
            return;
        }
        let lived = slot.started.elapsed();
        let (what, lines) =
            after_death(slot.kind, pid, how, lived, dont_respawn, &mut slot.backoff);
        for line in &lines {
            warn!("{line}");
        }
        match what {
            AfterDeath::Respawn(delay) => {
                slot.restart_at = Some(Instant::now() + delay);
            }
            AfterDeath::Terminate(code) => self.begin_stop(code),
            AfterDeath::Exit => self.begin_stop(exit::OK),
        }
        self.reload_step_done(idx);
    }

    pub(super) fn handle_channel(&mut self, idx: usize) {
        let Some(ch) = self.slots.get_mut(idx).and_then(|s| s.channel.as_mut()) else {
            return;
        };
        if let Err(e) = ch.flush() {
            debug!("IPC write failed: {e}");
        }
        let got = ch.receive();
        for msg in got.messages {
            self.on_message(idx, msg);
        }
        if got.closed {
            self.close_channel(idx);
            // A child without its channel cannot be told anything: end it, and the usual
            // death handling respawns it (when it already exited, this is a no-op).
            if let Some(slot) = self.slots.get(idx) {
                if let (Some(pid), None) = (slot.pid, self.stop_deadline) {
                    debug!("IPC channel of {} child {pid} closed", slot.kind.label());
                    let _ = os::kill(pid, Signal::SIGTERM);
                }
            }
        }
    }

    pub(super) fn on_message(&mut self, idx: usize, msg: ToParent) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        match msg {
            ToParent::Hello { .. } => {}
            ToParent::Ready => {
                slot.ready = true;
                let all_ready = self
                    .slots
                    .iter()
                    .filter(|s| s.pid.is_some())
                    .all(|s| s.ready);
                if all_ready {
                    self.report_startup();
                }
            }
            ToParent::ReloadNeedsFull => self.resend_whole(idx),
            ToParent::ReloadDone { warnings } => {
                for w in warnings {
                    warn!("{w}");
                }
                self.reload_step_done(idx);
            }
            ToParent::InstanceState(status) => {
                slot.last_states.insert(status.name.clone(), status);
            }
            ToParent::DumpReply { id, text } | ToParent::StatsReply { id, text } => {
                match self.pending_dumps.remove(&id) {
                    Some(kind) => self.write_dump(kind, &text),
                    None => debug!("unexpected dump reply {id}"),
                }
            }
            ToParent::Log { level, text } => log::log!(ipc_level(level), "{text}"),
            ToParent::ScriptResult { script, good, exit } => {
                let state = if good { "GOOD" } else { "BAD" };
                let vrrp = self
                    .slots
                    .iter_mut()
                    .find(|s| s.kind == ChildKind::Vrrp)
                    .and_then(|s| s.channel.as_mut());
                match vrrp {
                    Some(ch) => {
                        debug!(
                            "relaying VRRP_Script({script}) {state} ({exit:?}) to the VRRP child"
                        );
                        ch.send(&ToChild::TrackUpdate {
                            script: script.clone(),
                            good,
                        });
                    }
                    None => debug!("VRRP_Script({script}) {state}: no VRRP child to tell yet"),
                }
                self.script_states.insert(script, good);
            }
            ToParent::RealServerState { vs, rs, up } => {
                info!("{vs}: real server {rs} {}", if up { "up" } else { "down" });
            }
        }
    }

    pub(super) fn begin_stop(&mut self, code: u8) {
        if self.stop_deadline.is_some() {
            return;
        }
        info!("Stopping");
        self.notifier.stopping();
        self.exit_code = code;
        self.stop_deadline = Some(Instant::now() + self.config.child_wait_time);
        for slot in &mut self.slots {
            slot.restart_at = None;
            let Some(pid) = slot.pid else { continue };
            match slot.channel.as_mut() {
                Some(ch) => ch.send(&ToChild::Shutdown),
                None => {
                    if let Err(e) = os::kill(pid, Signal::SIGTERM) {
                        debug!("SIGTERM to {pid}: {e}");
                    }
                }
            }
        }
    }

    /// Every started child said `Ready` (or none is needed): log it once and tell systemd.
    pub(super) fn report_startup(&mut self) {
        if self.startup_reported {
            return;
        }
        self.startup_reported = true;
        info!("Startup complete");
        self.notifier
            .ready(self.parent_pid.unsigned_abs(), "Startup complete");
        // The config load's temporaries are freed by now: give their pages back.
        super::shed_unused_memory();
        self.shed_at = Some(Instant::now() + super::SHED_AFTER_BURST);
    }

    /// Writes one child's dump to its file; a failure is logged and changes nothing else.
    pub(super) fn write_dump(&self, kind: DumpKind, text: &str) {
        let configured = self
            .config
            .global
            .dump_files
            .iter()
            .rev()
            .find(|(keyword, _)| keyword == kind.keyword())
            .map(|(_, path)| path.as_str());
        let path = dumpfile::dump_path(kind, configured, &dumpfile::tmp_dir());
        match dumpfile::write_dump(&path, text) {
            Ok(()) => info!("Wrote {}", path.display()),
            Err(e) => error!("dump not written: {e}"),
        }
    }

    pub(super) fn kill_remaining(&mut self) {
        self.killed = true;
        for slot in &self.slots {
            if let Some(pid) = slot.pid {
                warn!(
                    "{} child process({pid}) failed to die - forcing termination",
                    slot.kind.label()
                );
                if let Err(e) = os::kill(pid, Signal::SIGKILL) {
                    debug!("SIGKILL to {pid}: {e}");
                }
            }
        }
    }
}

fn ipc_level(level: LogLevel) -> log::Level {
    match level {
        LogLevel::Error => log::Level::Error,
        LogLevel::Warn => log::Level::Warn,
        LogLevel::Info => log::Level::Info,
        LogLevel::Debug => log::Level::Debug,
        LogLevel::Trace => log::Level::Trace,
    }
}

/// This process's CPU time, keepalived's way: `0.001234 user time, 0.005678 system time`.
fn child_cpu_time() -> Option<String> {
    use nix::sys::resource::{getrusage, UsageWho};
    let me = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let tv = |t: nix::sys::time::TimeVal| format!("{}.{:06}", t.tv_sec(), t.tv_usec());
    Some(format!(
        "{} user time, {} system time",
        tv(me.user_time()),
        tv(me.system_time())
    ))
}
