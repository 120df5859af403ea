//! Renders `keepalived-rs(8)` from the clap definition the binary parses, so the OPTIONS
//! section can never drift from the real flags.
//!
//! `cargo run -p keepalived-rs --example manpage -- OUT_FILE` (stdout without an argument).
//! `make deb` runs it; the page is generated, not kept in the repository.

use clap::CommandFactory;
use clap_mangen::Man;
use keepalived_rs::cli::{Cli, DEFAULT_CONFIG};
use std::io::Write;
use std::process::ExitCode;

/// DESCRIPTION, in roff (clap's `about` is only the one-line NAME).
const DESCRIPTION: &str = r#".SH DESCRIPTION
keepalived\-rs reads keepalived's configuration language (see
.BR keepalived\-rs.conf (5))
and speaks the same VRRP version 2 and 3 protocol, so it can replace keepalived on one
node of a cluster while the other nodes still run keepalived.
.PP
As keepalived, it runs as a parent process that reads and checks the configuration, writes
the pid files and forks two children: one for VRRP and one for the health checkers
(vrrp_script and virtual_server checks). A child that dies is started again. Without
.BR \-n ,
the parent detaches from the terminal.
"#;

/// Sections after OPTIONS that clap does not know about, in roff.
fn trailing_sections() -> String {
    format!(
        r#".SH SIGNALS
Send signals to the parent process; the numbers of the real\-time ones are printed by
.BR "keepalived\-rs \-\-signum=" NAME .
.TP
.B SIGHUP
Reload: read the configuration again. A configuration with errors is logged and the
running one is kept. Instances are matched by virtual router id, address family,
interface and unicast/multicast mode, so they keep their state; a VIP that stays in the
configuration is never removed during a reload.
.TP
.B SIGUSR1
Write the data dump,
.I $TMPDIR/keepalived.data
(or the state_dump_file setting), in keepalived's format.
.TP
.B SIGUSR2
Write the VRRP statistics,
.IR $TMPDIR/keepalived.stats .
.TP
.B STATS_CLEAR
(SIGRTMAX\-1) Write the statistics, then set them to zero.
.TP
.B JSON
(SIGRTMIN+2) Write
.I $TMPDIR/keepalived.json
in keepalived's json_version 1 layout.
.TP
.BR SIGTERM ", " SIGINT
Stop: every MASTER instance sends a priority 0 advertisement and removes its addresses
(unless
.BR \-V ),
notify_stop scripts run, the children are given child_wait_time (5 seconds) to exit, the
pid files are removed and the parent exits with status 0.
.SH EXIT STATUS
With
.BR \-t ,
the exit status is keepalived's: 0 when the configuration is valid, 4 for a fatal error
(for example a missing interface or file), 5 for other errors, 6 for a security
finding or a missing configuration file.
.PP
The daemon exits with 0 after a normal stop, 1 on a fatal error, 2 when the configuration
cannot run and 6 when the configuration file does not exist.
.SH FILES
.TP
.I {DEFAULT_CONFIG}
The default configuration file, as keepalived's. The Debian package installs a sample as
.I /etc/keepalived\-rs/keepalived.conf
and its systemd unit reads that one.
.TP
.I /etc/default/keepalived\-rs
Extra command\-line options for the systemd unit (DAEMON_ARGS).
.TP
.IR /run/keepalived.pid ", " /run/vrrp.pid ", " /run/checkers.pid
Default pid files of the parent and of the children (see
.BR \-p ", " \-r ", " \-c ).
.TP
.IR /tmp/keepalived.data ", " /tmp/keepalived.stats ", " /tmp/keepalived.json
Dump files written on signals; the directory is
.B $TMPDIR
when it is set. They are created with mode 0600, never through a symbolic link, and
replaced atomically.
.SH ENVIRONMENT
.TP
.B TMPDIR
Directory of the dump files.
.TP
.B JOURNAL_STREAM
When it names the standard error (systemd sets it), console log lines
.RB ( \-l )
carry a
.RI < N >
priority prefix instead of a time stamp, so the journal keeps their levels.
.TP
.B NOTIFY_SOCKET
When set (systemd, Type=notify), the parent reports READY, RELOADING and STOPPING there.
.SH SEE ALSO
.BR keepalived\-rs.conf (5),
.BR keepalived (8),
.BR keepalived.conf (5),
.BR ip (8)
"#
    )
}

fn render(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    let man = Man::new(cmd)
        .section("8")
        .manual("System Administration")
        .source(format!("keepalived-rs {}", env!("CARGO_PKG_VERSION")));
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    out.write_all(DESCRIPTION.as_bytes())?;
    man.render_options_section(out)?;
    out.write_all(trailing_sections().as_bytes())?;
    man.render_version_section(out)?;
    Ok(())
}

fn main() -> ExitCode {
    let result = match std::env::args_os().nth(1) {
        Some(path) => {
            let mut buf = Vec::new();
            render(&mut buf).and_then(|()| std::fs::write(&path, buf))
        }
        None => render(&mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("manpage: {e}");
            ExitCode::FAILURE
        }
    }
}
