//! The part of a child's alerting that does not depend on what the child watches: the mail
//! settings and router id `global_defs` asks for, and the [`Client`] that exists only while
//! mail can go out. The VRRP child and the checker child each keep one [`Mailer`] and decide
//! for themselves which events become mails.

use crate::alert::Alert;
use crate::client::{Client, Settings};
use crate::global::{local_name, settings};
use keepalived_config::model::GlobalDefs;
use mio::{Registry, Token};
use std::time::Instant;

/// Mail settings, router id and the client of one child, resolved once per (re)load.
#[derive(Debug)]
pub struct Mailer {
    settings: Option<Settings>,
    router_id: Option<String>,
    client: Option<Client>,
    first: Token,
    slots: usize,
}

impl Mailer {
    /// A mailer as `global` asks for it, sending on the tokens `first` .. `first + slots` of
    /// the caller's poll; disabled without `smtp_server` and recipients.
    pub fn new(global: &GlobalDefs, first: Token, slots: usize) -> Self {
        let (settings, router_id) = resolve(global);
        let client = settings.clone().map(|s| Client::new(s, first, slots));
        Mailer {
            settings,
            router_id,
            client,
            first,
            slots,
        }
    }

    /// A reload: the new router id at once; mails under way finish unless the server
    /// settings changed (then they are dropped with their connections).
    pub fn reload(&mut self, global: &GlobalDefs, registry: &Registry) {
        let (settings, router_id) = resolve(global);
        if settings != self.settings {
            if let Some(c) = self.client.as_mut() {
                c.close_all(registry);
            }
            self.client = settings
                .clone()
                .map(|s| Client::new(s, self.first, self.slots));
            self.settings = settings;
        }
        self.router_id = router_id;
    }

    /// True when alerts can go out at all.
    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    /// The settings in use (`None` when disabled).
    pub fn settings(&self) -> Option<&Settings> {
        self.settings.as_ref()
    }

    /// The router id the mails name (`router_id`, else the local host name).
    pub fn router_id(&self) -> Option<&str> {
        self.router_id.as_deref()
    }

    /// Queues `alert`; nothing when disabled.
    pub fn send(&mut self, registry: &Registry, now: Instant, alert: &Alert) {
        if let Some(c) = self.client.as_mut() {
            c.send(registry, now, alert);
        }
    }

    /// True when `token` is one of the mail connections'.
    pub fn owns(&self, token: Token) -> bool {
        self.client.as_ref().is_some_and(|c| c.owns(token))
    }

    /// A readiness event on a mail connection.
    pub fn ready(&mut self, registry: &Registry, token: Token, now: Instant) {
        if let Some(c) = self.client.as_mut() {
            c.ready(registry, token, now);
        }
    }

    /// Handles the mail timeouts due by `now`.
    pub fn on_timeout(&mut self, registry: &Registry, now: Instant) {
        if let Some(c) = self.client.as_mut() {
            if c.next_deadline().is_some_and(|d| d <= now) {
                c.on_timeout(registry, now);
            }
        }
    }

    /// When the client next needs [`Mailer::on_timeout`].
    pub fn next_deadline(&self) -> Option<Instant> {
        self.client.as_ref().and_then(Client::next_deadline)
    }

    /// Mails still being sent or waiting for a connection.
    pub fn in_flight(&self) -> usize {
        self.client
            .as_ref()
            .map_or(0, |c| c.in_flight() + c.queued())
    }
}

/// The settings and router id of `global`; the host name is looked up once for both.
fn resolve(global: &GlobalDefs) -> (Option<Settings>, Option<String>) {
    let local = local_name();
    let settings = settings(global, local.as_deref());
    (settings, global.router_id.clone().or(local))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::vrrp_instance;
    use crate::alert::AlertState;
    use keepalived_config::{load_str, AssumeAll, LoadOptions};
    use std::time::Duration;

    const GLOBAL: &str = "global_defs {\n router_id lb1\n notification_email {\n ops@example.org\n }\n notification_email_from ka@example.org\n smtp_server 127.0.0.1 2525\n smtp_connect_timeout 7\n}\n";

    fn global(text: &str) -> GlobalDefs {
        load_str("t.conf", text, &LoadOptions::default(), &AssumeAll)
            .config
            .global
    }

    fn mailer(text: &str) -> Mailer {
        Mailer::new(&global(text), Token(8), 2)
    }

    #[test]
    fn settings_from_global_defs() {
        let m = mailer(GLOBAL);
        let s = m.settings().unwrap();
        assert_eq!(s.server, "127.0.0.1:2525".parse().unwrap());
        assert_eq!(s.from, "ka@example.org");
        assert_eq!(s.to, ["ops@example.org"]);
        assert_eq!(s.connect_timeout, Duration::from_secs(7));
        assert!(!s.helo.is_empty());
        assert_eq!(m.router_id(), Some("lb1"));
        assert!(m.enabled());
    }

    #[test]
    fn no_server_or_no_recipient_means_no_mail() {
        let m = mailer(&GLOBAL.replace(" smtp_server 127.0.0.1 2525\n", ""));
        assert!(!m.enabled() && m.settings().is_none());
        let m = mailer(&GLOBAL.replace(" notification_email {\n ops@example.org\n }\n", ""));
        assert!(!m.enabled());
        assert_eq!(m.in_flight(), 0);
        assert_eq!(m.next_deadline(), None);
        assert!(!m.owns(Token(8)));
    }

    /// A sink that accepts connections and keeps them (the mails stay in flight).
    fn sink() -> (std::net::TcpListener, String) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port().to_string();
        (l, port)
    }

    fn alert() -> Alert {
        vrrp_instance(Some("lb1"), "VI_1", AlertState::Master)
    }

    #[test]
    fn sends_on_its_tokens_and_disabled_sends_nothing() {
        let (_l, port) = sink();
        let poll = mio::Poll::new().unwrap();
        let mut off = mailer(&GLOBAL.replace(" smtp_server 127.0.0.1 2525\n", ""));
        off.send(poll.registry(), Instant::now(), &alert());
        assert_eq!(off.in_flight(), 0);
        let mut m = mailer(&GLOBAL.replace("2525", &port));
        m.send(poll.registry(), Instant::now(), &alert());
        assert_eq!(m.in_flight(), 1);
        assert!(m.owns(Token(8)));
        assert!(!m.owns(Token(10)));
        assert!(m.next_deadline().is_some());
    }

    #[test]
    fn reload_keeps_mails_unless_the_server_changes() {
        let (_l, port) = sink();
        let poll = mio::Poll::new().unwrap();
        let text = GLOBAL.replace("2525", &port);
        let mut m = mailer(&text);
        m.send(poll.registry(), Instant::now(), &alert());
        // Same server, new router id: the mail stays, the id changes.
        m.reload(&global(&text.replace("lb1", "lb2")), poll.registry());
        assert_eq!(m.in_flight(), 1);
        assert_eq!(m.router_id(), Some("lb2"));
        // Another connect timeout: new settings, the mail under way is dropped.
        m.reload(
            &global(&text.replace("smtp_connect_timeout 7", "smtp_connect_timeout 9")),
            poll.registry(),
        );
        assert_eq!(m.in_flight(), 0);
        assert_eq!(
            m.settings().map(|s| s.connect_timeout),
            Some(Duration::from_secs(9))
        );
        // No server any more: disabled.
        m.reload(
            &global(&GLOBAL.replace(" smtp_server 127.0.0.1 2525\n", "")),
            poll.registry(),
        );
        assert!(!m.enabled());
    }
}
