//! SMTP alerts of the VRRP child: which instances and sync groups mail (global
//! `smtp_alert` / `smtp_alert_vrrp`, per-block `smtp_alert`), and one mail per state each
//! one enters (keepalived's `last_email_state`: never the same state twice in a row).
//!
//! Mails go out through a [`Mailer`] on the child's own mio loop,
//! on the tokens [`FIRST_TOKEN`] .. `FIRST_TOKEN + SLOTS`; a slow server never holds the loop.

use crate::params::Plan;
use keepalived_config::Config;
use keepalived_smtp::alert::{vrrp_group, vrrp_instance, AlertState};
use keepalived_smtp::mailer::Mailer;
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

/// Which instances and sync groups mail, resolved once per (re)load.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Policy {
    instances: HashMap<String, bool>,
    groups: HashMap<String, bool>,
}

impl Policy {
    /// Empty when no mail goes out at all: every reload of thousands of instances would
    /// otherwise resolve each one's setting for nothing.
    fn for_mailer(config: &Config, mailer: &Mailer) -> Self {
        if mailer.enabled() {
            Policy::from_config(config)
        } else {
            Policy::default()
        }
    }

    fn from_config(config: &Config) -> Self {
        let g = &config.global;
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
        Policy { instances, groups }
    }
}

/// The VRRP child's alerts: policy, last mailed states and the mailer.
#[derive(Debug)]
pub struct Alerts {
    policy: Policy,
    mailer: Mailer,
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
        let mailer = Mailer::new(&config.global, Token(FIRST_TOKEN), SLOTS);
        Alerts {
            policy: Policy::for_mailer(config, &mailer),
            mailer,
            last_instance: HashMap::new(),
            last_group: HashMap::new(),
        }
    }

    /// A reload: new policy; mails under way finish unless the server settings changed.
    pub fn reload(&mut self, config: &Config, registry: &Registry) {
        self.mailer.reload(&config.global, registry);
        self.policy = Policy::for_mailer(config, &self.mailer);
    }

    /// True when alerts are configured at all.
    pub fn enabled(&self) -> bool {
        self.mailer.enabled()
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
        if !self.mailer.enabled() {
            return;
        }
        for r in actions {
            let router_id = self.mailer.router_id();
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
                    let mail = vrrp_instance(router_id, name, state);
                    self.mailer.send(registry, now, &mail);
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
                    self.mailer.send(registry, now, &mail);
                }
                _ => {}
            }
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

    /// Mails still being sent.
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

    const BASE: &str = "global_defs {\n router_id lb1\n notification_email {\n ops@example.org\n }\n notification_email_from ka@example.org\n smtp_server 127.0.0.1 2525\n smtp_connect_timeout 7\n GLOBAL\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 192.0.2.100\n }\n INST\n}\nvrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n 192.0.2.101\n }\n}\nvrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n GROUP\n}\n";

    fn policy(global: &str, inst: &str, group: &str) -> Policy {
        let text = BASE
            .replace("GLOBAL", global)
            .replace("INST", inst)
            .replace("GROUP", group);
        Policy::from_config(&config(&text))
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

    #[test]
    fn the_policy_is_resolved_only_with_mail_and_again_at_reload() {
        let with_mail = config(
            &BASE
                .replace("GLOBAL", "smtp_alert")
                .replace("INST", "")
                .replace("GROUP", ""),
        );
        let without = config(
            &BASE
                .replace(" smtp_server 127.0.0.1 2525\n", "")
                .replace("GLOBAL", "smtp_alert")
                .replace("INST", "")
                .replace("GROUP", ""),
        );
        let poll = mio::Poll::new().unwrap();
        let mut alerts = Alerts::new(&without);
        assert_eq!(alerts.policy, Policy::default());
        alerts.reload(&with_mail, poll.registry());
        assert!(alerts.enabled());
        assert_eq!(alerts.policy.instances.get("VI_1"), Some(&true));
        alerts.reload(&without, poll.registry());
        assert_eq!(alerts.policy, Policy::default());
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
