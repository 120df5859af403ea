//! Where commands go: the [`IpvsSink`] trait, the [`Recorder`] and the [`LoggingSink`].

use super::{IpvsCommand, IpvsError, IpvsTable};

/// Carries out IPVS commands (the kernel, a recorder, a log).
pub trait IpvsSink {
    /// Carries out one command.
    fn apply(&mut self, cmd: &IpvsCommand) -> Result<(), IpvsError>;

    /// Carries out each command in order, going on after a failure (as keepalived does: one
    /// refused destination does not stop the others), and returns the failures.
    fn apply_all(&mut self, cmds: &[IpvsCommand]) -> Vec<IpvsError> {
        cmds.iter().filter_map(|c| self.apply(c).err()).collect()
    }
}

/// Keeps every command and the table they build, refusing what the kernel would refuse
/// (adding twice, deleting what is not there), so tests see both sequence and result.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    commands: Vec<IpvsCommand>,
    table: IpvsTable,
}

impl Recorder {
    /// An empty recorder over an empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every command applied so far (refused ones too), in order.
    pub fn commands(&self) -> &[IpvsCommand] {
        &self.commands
    }

    /// The commands so far in `ipvsadm` spelling.
    pub fn lines(&self) -> Vec<String> {
        self.commands.iter().map(ToString::to_string).collect()
    }

    /// Returns the commands recorded so far and forgets them (the table stays).
    pub fn take(&mut self) -> Vec<IpvsCommand> {
        std::mem::take(&mut self.commands)
    }

    /// Like [`Recorder::take`], in `ipvsadm` spelling.
    pub fn take_lines(&mut self) -> Vec<String> {
        self.take().iter().map(ToString::to_string).collect()
    }

    /// The table the commands have built.
    pub fn table(&self) -> &IpvsTable {
        &self.table
    }
}

impl IpvsSink for Recorder {
    fn apply(&mut self, cmd: &IpvsCommand) -> Result<(), IpvsError> {
        self.commands.push(cmd.clone());
        self.table.apply(cmd)
    }
}

/// For kernels without IPVS: logs each command at info as
/// `IPVS (no kernel support): <command>` and reports success, so the checks, notifies and
/// states go on as if the table had been programmed.
#[derive(Debug, Clone, Default)]
pub struct LoggingSink {
    applied: u64,
}

impl LoggingSink {
    /// A new logging sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many commands it has logged.
    pub fn applied(&self) -> u64 {
        self.applied
    }
}

impl IpvsSink for LoggingSink {
    fn apply(&mut self, cmd: &IpvsCommand) -> Result<(), IpvsError> {
        self.applied += 1;
        log::info!("IPVS (no kernel support): {cmd}");
        Ok(())
    }
}
