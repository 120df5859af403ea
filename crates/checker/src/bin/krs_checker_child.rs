//! The checker child on its own, for tests: its stdin is the IPC socket (a socketpair end
//! given by the test as stdin), as the supervisor would hand it over after fork.

use keepalived_checker::{run_child, CheckerOptions};
use std::os::fd::AsFd;
use std::process::ExitCode;

fn main() -> ExitCode {
    match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => run_child(fd, CheckerOptions::default()),
        Err(e) => {
            eprintln!("krs_checker_child: stdin: {e}");
            ExitCode::FAILURE
        }
    }
}
