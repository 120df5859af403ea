//! SMTP alerts of the VRRP child: which instances and sync groups mail (global
//! `smtp_alert` / `smtp_alert_vrrp`, per-block `smtp_alert`), and one mail per state each
//! one enters (keepalived's `last_email_state`: never the same state twice in a row).
//!
//! Mails go out through [`keepalived_smtp::client::Client`] on the child's own mio loop,
//! on the tokens [`FIRST_TOKEN`] .. `FIRST_TOKEN + SLOTS`; a slow server never holds the loop.

use crate::params::Plan;
use keepalived_config::Config;
use keepalived_smtp::alert::{vrrp_group, vrrp_instance, AlertState};
use keepalived_smtp::client::{Client, Settings};
use keepalived_smtp::global::{local_name, settings};
use keepalived_vrrp::instance::{Action, State};
use keepalived_vrrp::sync_group::{Routed, Router, Source};
use mio::{Registry, Token};
use std::collections::HashMap;
use std::time::Instant;

/// First mio token of the SMTP connections (below the VRRP sockets' range).
pub const FIRST_TOKEN: usize = 8;
/// Mails in flight at once.
pub const SLOTS: usize = 8;
const _: () = assert!(FIRST_TOKEN + SLOTS <= crate::net::FIRST_SOCKET_TOKEN);

/// What the config says about alerts, resolved once per (re)load.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    settings: Option<Settings>,
    router_id: Option<String>,
    instances: HashMap<String, bool>,
    groups: HashMap<String, bool>,
}

impl Policy {
    fn from_config(config: &Config) -> Self {
        let g = &config.global;
        let local = local_name();
        let default_on = g.smtp_alert_vrrp.or(g.smtp_alert).unwrap_or(false);
        let instances = config
            .vrrp_instances
            .iter()
            .map(|v| (v.name.clone(), v.effective(g).smtp_alert))
            .collect();
        let groups = config
            .sync_groups
            .iter()
            .map(|s| (s.name.clone(), s.smtp_alert.unwrap_or(default_on)))
            .collect();
        let settings = settings(g, local.as_deref());
        Policy {
            settings,
            router_id: g.router_id.clone().or(local),
            instances,
            groups,
        }
    }
}

/// The VRRP child's alerts: policy, last mailed states and the mail client.
#[derive(Debug)]
pub struct Alerts {
    policy: Policy,
    client: Option<Client>,
    last_instance: HashMap<String, State>,
    last_group: HashMap<String, State>,
}

fn alert_state(s: State) -> Option<AlertState> {
    match s {
        State::Master => Some(AlertState::Master),
        State::Backup => Some(AlertState::Backup),
        State::Fault => Some(AlertState::Fault),
        State::Stop => Some(AlertState::Stop),
        State::Init => None,
    }
}

impl Alerts {
    /// Alerts as `config` asks for them (none without `smtp_server` and recipients).
    pub fn new(config: &Config) -> Self {
        let policy = Policy::from_config(config);
        let client = policy
            .settings
            .clone()
            .map(|s| Client::new(s, Token(FIRST_TOKEN), SLOTS));
        Alerts {
            policy,
            client,
            last_instance: HashMap::new(),
            last_group: HashMap::new(),
        }
    }

    /// A reload: new policy; mails under way finish unless the server settings changed.
    pub fn reload(&mut self, config: &Config, registry: &Registry) {
        let policy = Policy::from_config(config);
        if policy.settings != self.policy.settings {
            if let Some(c) = self.client.as_mut() {
                c.close_all(registry);
            }
            self.client = policy
                .settings
                .clone()
                .map(|s| Client::new(s, Token(FIRST_TOKEN), SLOTS));
        }
        self.policy = policy;
    }

    /// True when alerts are configured at all.
    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    /// Queues a mail for each transition in `actions` that the policy wants mailed: an
    /// instance's `StateChanged`, and a sync group whose state (read from `router`) moved.
    pub fn observe(
        &mut self,
        registry: &Registry,
        now: Instant,
        plan: &Plan,
        router: &Router,
        actions: &[Routed],
    ) {
        let Some(client) = self.client.as_mut() else {
            return;
        };
        let router_id = self.policy.router_id.as_deref();
        for r in actions {
            match (r.source, &r.action) {
                (Source::Instance(i), Action::StateChanged { to, .. }) => {
                    let Some(name) = plan.shells.get(i).map(|s| s.name.as_str()) else {
                        continue;
                    };
                    if !self.policy.instances.get(name).copied().unwrap_or(false) {
                        continue;
                    }
                    let Some(state) = alert_state(*to) else {
                        continue;
                    };
                    if self.last_instance.insert(name.to_string(), *to) == Some(*to) {
                        continue;
                    }
                    client.send(registry, now, &vrrp_instance(router_id, name, state));
                }
                (Source::Group(g), _) => {
                    let Some(group) = router.groups().get(g) else {
                        continue;
                    };
                    let name = group.name();
                    if !self.policy.groups.get(name).copied().unwrap_or(false) {
                        continue;
                    }
                    let to = group.state();
                    let Some(mail) = alert_state(to).and_then(|s| vrrp_group(router_id, name, s))
                    else {
                        continue;
                    };
                    if self.last_group.insert(name.to_string(), to) == Some(to) {
                        continue;
                    }
                    client.send(registry, now, &mail);
                }
                _ => {}
            }
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

    /// When the mail client next needs [`Alerts::on_timeout`].
    pub fn next_deadline(&self) -> Option<Instant> {
        self.client.as_ref().and_then(Client::next_deadline)
    }

    /// Mails still being sent.
    pub fn in_flight(&self) -> usize {
        self.client
            .as_ref()
            .map_or(0, |c| c.in_flight() + c.queued())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::{load_str, AssumeAll, LoadOptions};

    fn config(text: &str) -> Config {
        load_str("t.conf", text, &LoadOptions::default(), &AssumeAll).config
    }

    const BASE: &str = "global_defs {\n router_id lb1\n notification_email {\n ops@example.org\n }\n notification_email_from ka@example.org\n smtp_server 127.0.0.1 2525\n smtp_connect_timeout 7\n GLOBAL\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 192.0.2.100\n }\n INST\n}\nvrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n 192.0.2.101\n }\n}\nvrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n GROUP\n}\n";

    fn policy(global: &str, inst: &str, group: &str) -> Policy {
        let text = BASE
            .replace("GLOBAL", global)
            .replace("INST", inst)
            .replace("GROUP", group);
        Policy::from_config(&config(&text))
    }

    #[test]
    fn settings_from_global_defs() {
        let p = policy("", "", "");
        let s = p.settings.unwrap();
        assert_eq!(s.server, "127.0.0.1:2525".parse().unwrap());
        assert_eq!(s.from, "ka@example.org");
        assert_eq!(s.to, ["ops@example.org"]);
        assert_eq!(s.connect_timeout, std::time::Duration::from_secs(7));
        assert!(!s.helo.is_empty());
        assert_eq!(p.router_id.as_deref(), Some("lb1"));
    }

    #[test]
    fn no_server_or_no_recipient_means_no_mail() {
        let text = BASE
            .replace(" smtp_server 127.0.0.1 2525\n", "")
            .replace("GLOBAL", "smtp_alert")
            .replace("INST", "")
            .replace("GROUP", "");
        assert!(!Alerts::new(&config(&text)).enabled());
        let text = BASE
            .replace(" notification_email {\n ops@example.org\n }\n", "")
            .replace("GLOBAL", "smtp_alert")
            .replace("INST", "")
            .replace("GROUP", "");
        assert!(!Alerts::new(&config(&text)).enabled());
    }

    #[test]
    fn global_and_block_switches() {
        let p = policy("", "", "");
        assert_eq!(p.instances.get("VI_1"), Some(&false));
        assert_eq!(p.groups.get("G"), Some(&false));
        let p = policy("smtp_alert", "", "");
        assert_eq!(p.instances.get("VI_1"), Some(&true));
        assert_eq!(p.groups.get("G"), Some(&true));
        let p = policy("smtp_alert\n smtp_alert_vrrp off", "", "");
        assert_eq!(p.instances.get("VI_1"), Some(&false));
        assert_eq!(p.groups.get("G"), Some(&false));
        let p = policy("smtp_alert_checker", "smtp_alert", "smtp_alert off");
        assert_eq!(p.instances.get("VI_1"), Some(&true));
        assert_eq!(p.instances.get("VI_2"), Some(&false));
        assert_eq!(p.groups.get("G"), Some(&false));
    }

    /// A sink that accepts connections and keeps them (the mails stay in flight).
    fn sink() -> (std::net::TcpListener, u16) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        (l, port)
    }

    #[test]
    fn one_mail_per_state_entered() {
        use crate::params::{plan, InterfaceInfo, PlanOptions};
        use keepalived_vrrp::instance::Input;
        use keepalived_vrrp::sync_group::Target;
        let (_listener, port) = sink();
        let text = BASE
            .replace("2525", &port.to_string())
            .replace("GLOBAL", "smtp_alert")
            .replace("INST", "")
            .replace("GROUP", "");
        let cfg = config(&text);
        let lookup = |_: &str| {
            Some(InterfaceInfo {
                index: 2,
                primary_v4: Some(std::net::Ipv4Addr::new(192, 0, 2, 1)),
                link_local_v6: None,
                mac: Some([2, 0, 0, 0, 0, 1]),
                up: true,
            })
        };
        let p = plan(&cfg, &lookup, PlanOptions::default());
        let mut router = Router::new(p.instances.clone(), p.groups.clone()).unwrap();
        let poll = mio::Poll::new().unwrap();
        let mut alerts = Alerts::new(&cfg);
        assert!(alerts.enabled());
        let t0 = std::time::Duration::ZERO;
        let mut out = Vec::new();
        for i in 0..2 {
            out.extend(router.handle(t0, Target::Instance(i), Input::Start));
        }
        alerts.observe(poll.registry(), Instant::now(), &p, &router, &out);
        // VI_1 and VI_2 enter BACKUP, and so does the group.
        assert_eq!(alerts.in_flight(), 3);
        // The same transitions seen again send nothing more.
        alerts.observe(poll.registry(), Instant::now(), &p, &router, &out);
        assert_eq!(alerts.in_flight(), 3);
        // Shutdown: both instances and the group stop.
        let out = router.handle(t0, Target::All, Input::Shutdown);
        alerts.observe(poll.registry(), Instant::now(), &p, &router, &out);
        assert_eq!(alerts.in_flight(), 6);
    }
}
