//! SMTP alerts of the checker child: which real servers and virtual servers mail (a
//! real server's `smtp_alert`, else its virtual server's, else the global
//! `smtp_alert_checker`, else `smtp_alert`, else off), and one mail per real-server
//! up/down and per quorum gained/lost.
//!
//! The virtual servers queue [`Event`]s; the loop hands them to [`Alerts::send`], which
//! sends through a [`Mailer`] on the tokens [`FIRST_TOKEN`] ..
//! `FIRST_TOKEN + SLOTS` of the loop's own poll; a slow server never holds the loop.

use keepalived_config::model::lvs::{RealServer, VirtualServer};
use keepalived_config::model::GlobalDefs as Global;
use keepalived_config::Config;
use keepalived_smtp::alert::{real_server, virtual_server};
use keepalived_smtp::mailer::Mailer;
use mio::{Registry, Token};
use std::time::Instant;

/// First mio token of the SMTP connections (after the loop's IPC and signal tokens).
pub const FIRST_TOKEN: usize = 16;
/// Mails in flight at once.
pub const SLOTS: usize = 8;
const _: () = assert!(FIRST_TOKEN + SLOTS <= crate::vs::TOKEN_BASE);

/// Something the virtual servers want mailed (if the configuration asks for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A real server went up or down.
    RealServer {
        /// Index of the virtual server in the configuration.
        vs: usize,
        /// Index of the real server in its virtual server.
        rs: usize,
        /// keepalived's name of the virtual server (`[10.0.0.1]:tcp:80`).
        vs_name: String,
        /// keepalived's name of the real server.
        rs_name: String,
        /// Up (true) or down.
        up: bool,
        /// The checker's line, e.g. `=> TCP CHECK succeed on service <=`.
        body: &'static str,
    },
    /// A virtual server gained or lost its quorum.
    Quorum {
        /// Index of the virtual server in the configuration.
        vs: usize,
        /// keepalived's name of the virtual server.
        vs_name: String,
        /// Gained (true) or lost.
        up: bool,
    },
}

/// The kind of checker whose result moved a real server, for the mail's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// TCP_CHECK.
    Tcp,
    /// HTTP_GET or SSL_GET.
    Http,
    /// MISC_CHECK.
    Misc,
    /// Anything else.
    Other,
}

/// keepalived's body line for a checker's success or failure.
pub fn checker_body(kind: CheckKind, up: bool) -> &'static str {
    match (kind, up) {
        (CheckKind::Tcp, true) => "=> TCP CHECK succeed on service <=",
        (CheckKind::Tcp, false) => "=> TCP CHECK failed on service <=",
        (CheckKind::Misc, true) => "=> MISC CHECK succeed on service <=",
        (CheckKind::Misc, false) => "=> MISC CHECK failed on service <=",
        (_, true) => "=> CHECK succeed on service <=",
        (_, false) => "=> CHECK failed on service <=",
    }
}

/// keepalived's body line for a quorum change.
pub fn quorum_body(up: bool) -> &'static str {
    if up {
        "=> Gained quorum <="
    } else {
        "=> Lost quorum <="
    }
}

/// Whether a virtual server mails: its own `smtp_alert`, else `smtp_alert_checker`, else
/// `smtp_alert`, else off.
pub fn vs_alerts(global: &Global, vs: &VirtualServer) -> bool {
    vs.smtp_alert
        .or(global.smtp_alert_checker)
        .or(global.smtp_alert)
        .unwrap_or(false)
}

/// Whether a real server mails: its own `smtp_alert`, else its virtual server's choice.
pub fn rs_alerts(global: &Global, vs: &VirtualServer, rs: &RealServer) -> bool {
    rs.smtp_alert.unwrap_or_else(|| vs_alerts(global, vs))
}

/// Which real servers and virtual servers mail, resolved once per (re)load.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    vs: Vec<bool>,
    rs: Vec<Vec<bool>>,
}

impl Policy {
    fn from_config(config: &Config) -> Self {
        let g = &config.global;
        Policy {
            vs: config
                .virtual_servers
                .iter()
                .map(|vs| vs_alerts(g, vs))
                .collect(),
            rs: config
                .virtual_servers
                .iter()
                .map(|vs| {
                    vs.real_servers
                        .iter()
                        .map(|rs| rs_alerts(g, vs, rs))
                        .collect()
                })
                .collect(),
        }
    }

    fn wants(&self, ev: &Event) -> bool {
        match *ev {
            Event::RealServer { vs, rs, .. } => self
                .rs
                .get(vs)
                .and_then(|r| r.get(rs))
                .copied()
                .unwrap_or(false),
            Event::Quorum { vs, .. } => self.vs.get(vs).copied().unwrap_or(false),
        }
    }
}

/// The checker's alerts: policy and the mailer.
#[derive(Debug)]
pub struct Alerts {
    policy: Policy,
    mailer: Mailer,
}

impl Alerts {
    /// Alerts as `config` asks for them (none without `smtp_server` and recipients).
    pub fn new(config: &Config) -> Self {
        Alerts {
            policy: Policy::from_config(config),
            mailer: Mailer::new(&config.global, Token(FIRST_TOKEN), SLOTS),
        }
    }

    /// A reload: new policy; mails under way finish unless the server settings changed.
    pub fn reload(&mut self, config: &Config, registry: &Registry) {
        self.policy = Policy::from_config(config);
        self.mailer.reload(&config.global, registry);
    }

    /// True when alerts are configured at all.
    pub fn enabled(&self) -> bool {
        self.mailer.enabled()
    }

    /// Queues a mail for each event the policy wants mailed.
    pub fn send(&mut self, registry: &Registry, now: Instant, events: &[Event]) {
        if !self.mailer.enabled() {
            return;
        }
        for ev in events.iter().filter(|e| self.policy.wants(e)) {
            let router_id = self.mailer.router_id();
            let mail = match ev {
                Event::RealServer {
                    vs_name,
                    rs_name,
                    up,
                    body,
                    ..
                } => real_server(router_id, rs_name, vs_name, *up, body),
                Event::Quorum { vs_name, up, .. } => {
                    virtual_server(router_id, vs_name, *up, quorum_body(*up))
                }
            };
            self.mailer.send(registry, now, &mail);
        }
    }

    /// True when `token` is one of the mail connections'.
    pub fn owns(&self, token: Token) -> bool {
        self.mailer.owns(token)
    }

    /// A readiness event on a mail connection.
    pub fn ready(&mut self, registry: &Registry, token: Token, now: Instant) {
        self.mailer.ready(registry, token, now);
    }

    /// Handles the mail timeouts due by `now`.
    pub fn on_timeout(&mut self, registry: &Registry, now: Instant) {
        self.mailer.on_timeout(registry, now);
    }

    /// When the mail client next needs [`Alerts::on_timeout`].
    pub fn next_deadline(&self) -> Option<Instant> {
        self.mailer.next_deadline()
    }

    /// Mails still being sent or waiting for a connection.
    pub fn in_flight(&self) -> usize {
        self.mailer.in_flight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::{load_str, AssumeAll, LoadOptions};

    fn config(text: &str) -> Config {
        load_str("t.conf", text, &LoadOptions::default(), &AssumeAll).config
    }

    const BASE: &str = "global_defs {\n router_id lb1\n notification_email {\n ops@example.org\n }\n notification_email_from ka@example.org\n smtp_server 127.0.0.1 2525\n smtp_connect_timeout 7\n GLOBAL\n}\nvirtual_server 10.0.0.1 80 {\n protocol TCP\n VS\n real_server 10.0.0.2 80 {\n RS\n TCP_CHECK {\n }\n }\n real_server 10.0.0.3 80 {\n TCP_CHECK {\n }\n }\n}\n";

    fn policy(global: &str, vs: &str, rs: &str) -> Policy {
        let text = BASE
            .replace("GLOBAL", global)
            .replace("VS", vs)
            .replace("RS", rs);
        Policy::from_config(&config(&text))
    }

    fn rs_event(rs: usize) -> Event {
        Event::RealServer {
            vs: 0,
            rs,
            vs_name: "[10.0.0.1]:tcp:80".into(),
            rs_name: "[10.0.0.2]:tcp:80".into(),
            up: false,
            body: checker_body(CheckKind::Tcp, false),
        }
    }

    fn quorum_event() -> Event {
        Event::Quorum {
            vs: 0,
            vs_name: "[10.0.0.1]:tcp:80".into(),
            up: true,
        }
    }

    #[test]
    fn no_server_or_no_recipient_means_no_mail() {
        let text = BASE
            .replace(" smtp_server 127.0.0.1 2525\n", "")
            .replace("GLOBAL", "smtp_alert")
            .replace("VS", "")
            .replace("RS", "");
        assert!(!Alerts::new(&config(&text)).enabled());
        let text = BASE
            .replace(" notification_email {\n ops@example.org\n }\n", "")
            .replace("GLOBAL", "smtp_alert")
            .replace("VS", "")
            .replace("RS", "");
        assert!(!Alerts::new(&config(&text)).enabled());
    }

    #[test]
    fn off_unless_asked() {
        let p = policy("", "", "");
        assert!(!p.wants(&rs_event(0)));
        assert!(!p.wants(&quorum_event()));
    }

    #[test]
    fn global_switches() {
        let p = policy("smtp_alert", "", "");
        assert!(p.wants(&rs_event(0)) && p.wants(&rs_event(1)));
        assert!(p.wants(&quorum_event()));
        let p = policy("smtp_alert_checker", "", "");
        assert!(p.wants(&rs_event(1)) && p.wants(&quorum_event()));
        // smtp_alert_checker overrides smtp_alert for the checker.
        let p = policy("smtp_alert\n smtp_alert_checker off", "", "");
        assert!(!p.wants(&rs_event(0)) && !p.wants(&quorum_event()));
        // smtp_alert_vrrp is the VRRP side's.
        let p = policy("smtp_alert_vrrp", "", "");
        assert!(!p.wants(&rs_event(0)));
    }

    #[test]
    fn block_switches_override() {
        let p = policy("smtp_alert", "smtp_alert off", "");
        assert!(!p.wants(&quorum_event()));
        assert!(!p.wants(&rs_event(1)), "the real server inherits its VS");
        let p = policy("", "", "smtp_alert");
        assert!(p.wants(&rs_event(0)));
        assert!(!p.wants(&rs_event(1)));
        assert!(!p.wants(&quorum_event()));
        let p = policy("", "smtp_alert", "smtp_alert off");
        assert!(!p.wants(&rs_event(0)));
        assert!(p.wants(&rs_event(1)) && p.wants(&quorum_event()));
    }

    #[test]
    fn unknown_indexes_do_not_mail() {
        let p = policy("smtp_alert", "", "");
        assert!(!p.wants(&rs_event(7)));
        let ev = Event::Quorum {
            vs: 3,
            vs_name: String::new(),
            up: false,
        };
        assert!(!p.wants(&ev));
    }

    #[test]
    fn bodies() {
        assert_eq!(
            checker_body(CheckKind::Tcp, true),
            "=> TCP CHECK succeed on service <="
        );
        assert_eq!(
            checker_body(CheckKind::Http, false),
            "=> CHECK failed on service <="
        );
        assert_eq!(quorum_body(false), "=> Lost quorum <=");
    }

    #[test]
    fn queues_only_wanted_mails() {
        // A sink that accepts and keeps connections: the mails stay in flight.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port().to_string();
        let text = BASE
            .replace("2525", &port)
            .replace("GLOBAL", "")
            .replace("VS", "")
            .replace("RS", "smtp_alert");
        let poll = mio::Poll::new().unwrap();
        let mut a = Alerts::new(&config(&text));
        assert!(a.enabled());
        a.send(
            poll.registry(),
            Instant::now(),
            &[rs_event(0), rs_event(1), quorum_event()],
        );
        assert_eq!(a.in_flight(), 1);
        assert!(a.owns(Token(FIRST_TOKEN)));
        assert!(a.next_deadline().is_some());
    }
}
