//! keepalived-rs: keepalived's command line in front of the keepalived-rs daemon.

mod config_test;
mod daemon;
mod genhash;
mod signum;
mod system_host;

use clap::Parser;
use keepalived_rs::cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    // genhash mode takes its own options (-s, -p, ... mean other things to the daemon).
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if genhash::requested(&args) {
        return genhash::run(&args);
    }
    let cli = cli::Cli::parse();

    if cli.version {
        println!(
            "keepalived-rs {} (keepalived 2.2 compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if let Some(name) = &cli.signum {
        return match signum::signum(name) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                ExitCode::from(1)
            }
        };
    }
    if cli.genhash {
        eprintln!("keepalived-rs: -T (genhash) must be the first option");
        return ExitCode::from(1);
    }
    if cli.config_test.is_some() || cli.dump_conf_json {
        return config_test::run(&cli);
    }
    for (set, what) in [
        (cli.snmp || cli.snmp_agent_socket.is_some(), "SNMP (-x/-A)"),
        (cli.bfd_pid.is_some() || cli.no_bfd, "BFD (-B/-b)"),
    ] {
        if set {
            eprintln!("keepalived-rs: {what} is not supported; option ignored");
        }
    }
    daemon::run(&cli)
}
