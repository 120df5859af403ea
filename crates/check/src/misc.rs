//! MISC_CHECK results (`check_misc.c`): exit 0 is up, 1 is down; with `misc_dynamic` an exit of
//! 2..=255 is up with the real server's weight set to `status - 2`. A signal, a timeout or a
//! failed start is down.

/// How a MISC_CHECK run ended, as the process runner reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiscExit {
    /// Exited with this status.
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
    /// Ran past `misc_timeout` and was killed.
    TimedOut,
    /// Could not be started.
    SpawnFailed,
}

/// The result of one MISC_CHECK run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiscResult {
    /// Whether the check succeeded.
    pub up: bool,
    /// The real server's new weight (`misc_dynamic` only).
    pub weight: Option<u32>,
}

/// Classifies an exit.
pub fn classify(exit: MiscExit, dynamic: bool) -> MiscResult {
    match exit {
        MiscExit::Exited(0) => MiscResult {
            up: true,
            weight: None,
        },
        MiscExit::Exited(s) if dynamic && (2..=255).contains(&s) => MiscResult {
            up: true,
            weight: u32::try_from(s - 2).ok(),
        },
        _ => MiscResult {
            up: false,
            weight: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert!(classify(MiscExit::Exited(0), false).up);
        assert!(!classify(MiscExit::Exited(1), true).up);
        assert!(!classify(MiscExit::Exited(7), false).up);
        assert_eq!(
            classify(MiscExit::Exited(7), true),
            MiscResult {
                up: true,
                weight: Some(5)
            }
        );
        assert_eq!(classify(MiscExit::Exited(2), true).weight, Some(0));
        assert!(!classify(MiscExit::TimedOut, true).up);
        assert!(!classify(MiscExit::Signaled(9), true).up);
        assert!(!classify(MiscExit::SpawnFailed, true).up);
    }
}
