//! Mail settings from `global_defs`, with keepalived's defaults: the local host name as
//! router id, HELO name and sender domain; `smtp_server` resolved once per (re)load.

use crate::client::Settings;
use keepalived_config::model::GlobalDefs;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// The local host name: keepalived's default router id, HELO name and sender domain.
pub fn local_name() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}

/// `smtp_server` as a socket address: an IP as is, a name resolved once (keepalived
/// resolves it while reading the config too).
fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    match (host, port).to_socket_addrs() {
        Ok(mut addrs) => addrs.next(),
        Err(e) => {
            log::warn!("Invalid smtp server {host} {port}: {e}");
            None
        }
    }
}

/// The mail settings `global_defs` asks for, or `None` when no mail can go out (no
/// `smtp_server`, no `notification_email`, or a server name that does not resolve).
pub fn settings(g: &GlobalDefs, local: Option<&str>) -> Option<Settings> {
    if g.notification_email.is_empty() {
        return None;
    }
    let server = g.smtp_server.as_ref()?;
    let addr = resolve(&server.host, server.port)?;
    let from = g.notification_email_from.clone().unwrap_or_else(|| {
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map_or_else(|| "root".to_string(), |u| u.name);
        format!("{user}@{}", local.unwrap_or("localhost"))
    });
    let helo = g
        .smtp_helo_name
        .clone()
        .or_else(|| local.map(str::to_string))
        .unwrap_or_else(|| "localhost".to_string());
    let mut s = Settings::new(addr, &helo, &from, g.notification_email.clone());
    s.connect_timeout = g.smtp_connect_timeout.max(Duration::from_secs(1));
    s.dialog_timeout = s.connect_timeout * 4;
    Some(s)
}
