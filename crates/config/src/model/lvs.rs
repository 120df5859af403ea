//! The LVS half of keepalived.conf: `virtual_server_group`, `virtual_server`, `real_server`,
//! every health checker block, and the top-level `SSL` block.
//!
//! The model keeps what the operator wrote. Settings that keepalived inherits down the chain
//! virtual server → real server → checker (`delay_loop`, `retry`, `delay_before_retry`,
//! `connect_timeout`, `warmup`, `alpha`, `inhibit_on_failure`, `virtualhost`, `smtp_alert`) are
//! `Option`s at each level; the `effective_*` methods resolve them with keepalived's defaults
//! (keepalived.conf(5), `check_data.c`, `check_api.c`).

use crate::model::Script;
use crate::source::Loc;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// keepalived's default check interval (`KEEPALIVED_DEFAULT_DELAY`, 60 s).
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// Default connect timeout for a virtual server and its checkers (5 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default pause between retries for most checkers (1 s).
pub const DEFAULT_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
/// Default pause between retries for HTTP_GET and SSL_GET (3 s).
pub const HTTP_DEFAULT_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);
/// `persistence_timeout` given without a value (`IPVS_SVC_PERSISTENT_TIMEOUT`, 360 s).
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;
/// Default retries for checkers other than MISC_CHECK and DNS_CHECK.
pub const DEFAULT_RETRY: u32 = 1;
/// Default SMTP HELO name (`SMTP_DEFAULT_HELO`).
pub const SMTP_DEFAULT_HELO: &str = "smtpchecker.keepalived.org";
/// Largest IPVS weight (`IPVS_WEIGHT_LIMIT`).
pub const IPVS_WEIGHT_LIMIT: u32 = i32::MAX as u32;

/// Address family named by `ip_family` or a fwmark group entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpFamily {
    /// `inet`
    Inet,
    /// `inet6`
    Inet6,
}

impl IpFamily {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => IpFamily::Inet,
            IpAddr::V6(_) => IpFamily::Inet6,
        }
    }
}

/// The top-level `SSL { … }` block used by SSL_GET checkers. Without it keepalived builds
/// a context with no certificates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SslConfig {
    /// `password`: the private key's passphrase.
    pub password: Option<String>,
    /// `ca`: CA certificate file.
    pub ca: Option<String>,
    /// `certificate`: client certificate file.
    pub certificate: Option<String>,
    /// `key`: private key file.
    pub key: Option<String>,
    /// Where the block starts.
    #[serde(default)]
    pub loc: Option<Loc>,
}

/// `virtual_server_group NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VirtualServerGroup {
    /// The group's name, referenced as `virtual_server group NAME`.
    pub name: String,
    /// Entries in configuration order.
    pub members: Vec<VsgMember>,
    /// Where the block starts.
    #[serde(default)]
    pub loc: Option<Loc>,
}

/// One line of a `virtual_server_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VsgMember {
    /// `IP [PORT]`: one address. A missing port or port 0 means all ports.
    Address {
        /// The address.
        ip: IpAddr,
        /// The port, if non-zero.
        port: Option<u16>,
    },
    /// `IP-N [PORT]`, `IP-IP [PORT]` or `IP/LEN [PORT]`: every address from `first` to `last`
    /// inclusive. For `10.0.0.1-10` the last IPv4 octet (or last IPv6 group) is replaced by N.
    Range {
        /// First address of the range.
        first: IpAddr,
        /// Last address of the range (inclusive).
        last: IpAddr,
        /// The port, if non-zero.
        port: Option<u16>,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The firewall mark.
        mark: u32,
        /// The family, if given.
        family: Option<IpFamily>,
    },
}

impl VsgMember {
    /// The family the entry belongs to (`None` for a fwmark without family).
    pub fn family(&self) -> Option<IpFamily> {
        match self {
            VsgMember::Address { ip, .. } | VsgMember::Range { first: ip, .. } => {
                Some(IpFamily::of(ip))
            }
            VsgMember::Fwmark { family, .. } => *family,
        }
    }

    /// The entry's port (0 for none or a fwmark).
    pub fn port(&self) -> u16 {
        match self {
            VsgMember::Address { port, .. } | VsgMember::Range { port, .. } => port.unwrap_or(0),
            VsgMember::Fwmark { .. } => 0,
        }
    }
}

impl VirtualServerGroup {
    /// Whether the group has an IPv4 entry (address or fwmark with `inet`).
    pub fn has_ipv4(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.family() == Some(IpFamily::Inet))
    }

    /// Whether the group has an IPv6 entry (address or fwmark with `inet6`).
    pub fn has_ipv6(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.family() == Some(IpFamily::Inet6))
    }

    /// Whether the group has a fwmark entry without a family.
    pub fn has_fwmark_without_family(&self) -> bool {
        self.members
            .iter()
            .any(|m| matches!(m, VsgMember::Fwmark { family: None, .. }))
    }

    /// Whether the group has fwmark entries.
    pub fn has_fwmarks(&self) -> bool {
        self.members
            .iter()
            .any(|m| matches!(m, VsgMember::Fwmark { .. }))
    }

    /// Whether the group has address entries.
    pub fn has_addresses(&self) -> bool {
        self.members
            .iter()
            .any(|m| !matches!(m, VsgMember::Fwmark { .. }))
    }
}

/// How a `virtual_server` is identified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VirtualServerKey {
    /// `virtual_server IP [PORT]`; port 0 or none means all ports (persistent services).
    Address {
        /// The virtual IP.
        ip: IpAddr,
        /// The port (0 when not given).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

/// Only so [`VirtualServer`] can derive `Default`; the parser always sets the key.
impl Default for VirtualServerKey {
    fn default() -> Self {
        VirtualServerKey::Fwmark(0)
    }
}

impl std::fmt::Display for VirtualServerKey {
    /// keepalived's spelling in log lines: `[IP]:PORT`, `FWM N`, `[GROUP]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VirtualServerKey::Address { ip, port } => write!(f, "[{ip}]:{port}"),
            VirtualServerKey::Fwmark(m) => write!(f, "FWM {m}"),
            VirtualServerKey::Group(g) => write!(f, "[{g}]"),
        }
    }
}

/// IPVS scheduler (`lvs_sched` / `lb_algo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connection.
    Lc,
    /// Weighted least connection (IPVS's default when none is set).
    #[default]
    Wlc,
    /// Locality-based least connection.
    Lblc,
    /// Source hashing.
    Sh,
    /// Maglev hashing.
    Mh,
    /// Destination hashing.
    Dh,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Locality-based least connection with replication.
    Lblcr,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted random twos choice.
    Twos,
}

impl Scheduler {
    /// Every scheduler keepalived accepts, with its config spelling.
    pub const ALL: [(&'static str, Scheduler); 14] = [
        ("rr", Scheduler::Rr),
        ("wrr", Scheduler::Wrr),
        ("lc", Scheduler::Lc),
        ("wlc", Scheduler::Wlc),
        ("lblc", Scheduler::Lblc),
        ("sh", Scheduler::Sh),
        ("mh", Scheduler::Mh),
        ("dh", Scheduler::Dh),
        ("fo", Scheduler::Fo),
        ("ovf", Scheduler::Ovf),
        ("lblcr", Scheduler::Lblcr),
        ("sed", Scheduler::Sed),
        ("nq", Scheduler::Nq),
        ("twos", Scheduler::Twos),
    ];

    /// Parses a config spelling (case-sensitive, like keepalived).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    /// The name IPVS knows the scheduler by.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("wlc")
    }
}

/// Scheduler flags: `ops`, `flag-1..3`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SchedulerFlags {
    /// `ops`: one-packet scheduling (UDP).
    pub one_packet: bool,
    /// `flag-1` (also set by `sh-fallback` / `mh-fallback`).
    pub flag_1: bool,
    /// `flag-2` (also set by `sh-port` / `mh-port`).
    pub flag_2: bool,
    /// `flag-3`.
    pub flag_3: bool,
}

/// Tunnel encapsulation for `TUN` forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TunnelType {
    /// IP-in-IP (the default).
    #[default]
    Ipip,
    /// Generic UDP encapsulation to `port`.
    Gue {
        /// Destination UDP port.
        port: u16,
    },
    /// GRE.
    Gre,
}

/// Tunnel checksum option for `TUN` forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TunnelChecksum {
    /// `nocsum` (the default).
    #[default]
    NoCsum,
    /// `csum`.
    Csum,
    /// `remcsum`.
    RemCsum,
}

/// `TUN` options: `type ipip|gue|gre`, `port N` (GUE only), `nocsum|csum|remcsum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TunnelOptions {
    /// Encapsulation.
    pub kind: TunnelType,
    /// Checksum handling.
    pub checksum: TunnelChecksum,
}

/// `lvs_method` / `lb_kind`: how IPVS forwards to a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ForwardingMethod {
    /// Masquerading (keepalived's default).
    #[default]
    Nat,
    /// Direct routing.
    Dr,
    /// IP tunnelling.
    Tun(TunnelOptions),
}

/// Transport protocol of a virtual server (`protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LvsProtocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// `persistence_granularity`: an IPv4 netmask or an IPv6 prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PersistenceGranularity {
    /// IPv4 netmask, e.g. `255.255.255.0`.
    V4Mask(std::net::Ipv4Addr),
    /// IPv6 prefix length, 1..=128.
    V6Prefix(u8),
}

/// `sorry_server IP [PORT]` and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryServer {
    /// Address.
    pub ip: IpAddr,
    /// Port (0 when not given).
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// `sorry_server_lvs_method`; otherwise the virtual server's method.
    pub method: Option<ForwardingMethod>,
    /// Where it was configured.
    #[serde(default)]
    pub loc: Option<Loc>,
}

/// `virtual_server … { … }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VirtualServer {
    /// Address/port, fwmark or group.
    pub key: VirtualServerKey,
    /// `delay_loop`; default 60 s.
    pub delay_loop: Option<Duration>,
    /// `lvs_sched` / `lb_algo`; `None` leaves IPVS's default.
    pub scheduler: Option<Scheduler>,
    /// Scheduler flags.
    pub flags: SchedulerFlags,
    /// `hashed` was given (accepted and ignored by keepalived).
    pub hashed: bool,
    /// `lvs_method` / `lb_kind`; default NAT.
    pub method: Option<ForwardingMethod>,
    /// `persistence_timeout` in seconds (the keyword alone gives 360).
    pub persistence_timeout: Option<u32>,
    /// `persistence_granularity`.
    pub persistence_granularity: Option<PersistenceGranularity>,
    /// `persistence_engine` (e.g. `sip`).
    pub persistence_engine: Option<String>,
    /// `protocol`; unset means keepalived reports it and uses UDP.
    pub protocol: Option<LvsProtocol>,
    /// The address family: `ip_family` if given, otherwise deduced at the end of the block
    /// the way keepalived does (from the address, `persistence_granularity`, or the first
    /// non-tunnelled real or sorry server). `None` for a group whose family is only known
    /// from the group.
    pub ip_family: Option<IpFamily>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `quorum`; default 1.
    pub quorum: Option<u32>,
    /// `quorum_up` script.
    pub quorum_up: Option<Script>,
    /// `quorum_down` script.
    pub quorum_down: Option<Script>,
    /// `hysteresis`; default 0.
    pub hysteresis: Option<u32>,
    /// `weight` (virtual server weight for group members); default 1.
    pub weight: Option<u32>,
    /// `alpha`: checkers start failed.
    pub alpha: bool,
    /// `omega`: run down notifies at shutdown.
    pub omega: bool,
    /// `inhibit_on_failure`: set weight 0 instead of removing failed real servers.
    pub inhibit_on_failure: bool,
    /// `retry` inherited by checkers.
    pub retry: Option<u32>,
    /// `delay_before_retry` inherited by checkers.
    pub delay_before_retry: Option<Duration>,
    /// `connect_timeout` inherited by checkers; default 5 s.
    pub connect_timeout: Option<Duration>,
    /// `warmup` inherited by checkers.
    pub warmup: Option<Duration>,
    /// `virtualhost` inherited by HTTP/SSL checkers.
    pub virtualhost: Option<String>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `smtp_alert [bool]`.
    pub smtp_alert: Option<bool>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// `real_server` blocks in order.
    pub real_servers: Vec<RealServer>,
    /// Where the block starts.
    #[serde(default)]
    pub loc: Option<Loc>,
}

impl VirtualServer {
    /// The check interval in force at this level.
    pub fn effective_delay_loop(&self) -> Duration {
        self.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP)
    }

    /// The forwarding method in force (NAT unless set).
    pub fn effective_method(&self) -> ForwardingMethod {
        self.method.unwrap_or_default()
    }

    /// The protocol in force. keepalived 2.2.7 does not default to TCP: an address-based
    /// virtual server without `protocol` is reported and set to UDP, which is what the
    /// kernel does with protocol 0.
    pub fn effective_protocol(&self) -> LvsProtocol {
        self.protocol.unwrap_or(LvsProtocol::Udp)
    }

    /// The quorum in force (1 unless set).
    pub fn effective_quorum(&self) -> u32 {
        self.quorum.unwrap_or(1)
    }

    /// The address family implied by the key or `ip_family`, if known.
    pub fn family(&self) -> Option<IpFamily> {
        match &self.key {
            VirtualServerKey::Address { ip, .. } => Some(IpFamily::of(ip)),
            _ => self.ip_family,
        }
    }
}

/// `real_server IP [PORT] { … }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealServer {
    /// Address.
    pub ip: IpAddr,
    /// Port (0 when not given: the virtual server's port is used).
    pub port: u16,
    /// `weight`; default 1; 0 allowed.
    pub weight: Option<u32>,
    /// `inhibit_on_failure [bool]`; inherits the virtual server's.
    pub inhibit_on_failure: Option<bool>,
    /// `notify_up` script.
    pub notify_up: Option<Script>,
    /// `notify_down` script.
    pub notify_down: Option<Script>,
    /// `uthreshold`: IPVS upper connection threshold.
    pub uthreshold: Option<u32>,
    /// `lthreshold`: IPVS lower connection threshold.
    pub lthreshold: Option<u32>,
    /// `lvs_method`; inherits the virtual server's.
    pub method: Option<ForwardingMethod>,
    /// `alpha [bool]`; inherits the virtual server's.
    pub alpha: Option<bool>,
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `delay_loop`.
    pub delay_loop: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `smtp_alert [bool]`.
    pub smtp_alert: Option<bool>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// Health checkers; the real server is up only when all are up.
    pub checkers: Vec<Checker>,
    /// Where the block starts.
    #[serde(default)]
    pub loc: Option<Loc>,
}

impl RealServer {
    /// A real server at `ip`:`port` with nothing else set.
    pub fn new(ip: IpAddr, port: u16) -> Self {
        Self {
            ip,
            port,
            weight: None,
            inhibit_on_failure: None,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            method: None,
            alpha: None,
            retry: None,
            delay_before_retry: None,
            connect_timeout: None,
            delay_loop: None,
            warmup: None,
            virtualhost: None,
            smtp_alert: None,
            snmp_name: None,
            checkers: Vec::new(),
            loc: None,
        }
    }

    /// The weight in force: the real server's own, else the virtual server's `weight`
    /// (default 1).
    pub fn effective_weight(&self, vs: &VirtualServer) -> u32 {
        self.weight.or(vs.weight).unwrap_or(1)
    }

    /// The forwarding method in force for this real server.
    pub fn effective_method(&self, vs: &VirtualServer) -> ForwardingMethod {
        self.method.unwrap_or_else(|| vs.effective_method())
    }

    /// The check interval in force at this level.
    pub fn effective_delay_loop(&self, vs: &VirtualServer) -> Duration {
        self.delay_loop.unwrap_or_else(|| vs.effective_delay_loop())
    }

    /// The port IPVS is given, after keepalived's corrections: no port means the virtual
    /// server's; with DR or TUN an address service forces its own port and a fwmark service
    /// clears it. A group service keeps the configured port.
    pub fn effective_port(&self, vs: &VirtualServer) -> u16 {
        let nat = self.effective_method(vs) == ForwardingMethod::Nat;
        match vs.key {
            VirtualServerKey::Address { port, .. } if self.port == 0 || !nat => port,
            VirtualServerKey::Fwmark(_) if !nat => 0,
            _ => self.port,
        }
    }
}

/// `connect_ip`, `connect_port`, `bindto`, `bind_port`, `bind_if`, `connect_timeout`, `fwmark`:
/// where a connecting checker connects from and to. Unset fields default to the real server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectOptions {
    /// `connect_ip`.
    pub connect_ip: Option<IpAddr>,
    /// `connect_port`.
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if` (needed for link-local IPv6 `bindto`).
    pub bind_if: Option<String>,
    /// `connect_timeout`; inherits real server, then virtual server (5 s).
    pub connect_timeout: Option<Duration>,
    /// `fwmark` (SO_MARK) for the check's socket.
    pub fwmark: Option<u32>,
}

/// Settings every checker accepts: `retry`, `delay_before_retry`, `warmup`, `delay_loop`,
/// `alpha`, `log_all_failures`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CheckerCommon {
    /// `retry` (`nb_get_retry` for HTTP/SSL is the deprecated alias).
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// `delay_loop`.
    pub delay_loop: Option<Duration>,
    /// `alpha [bool]`.
    pub alpha: Option<bool>,
    /// `log_all_failures [bool]`.
    pub log_all_failures: Option<bool>,
}

/// `TCP_CHECK { … }`: success when a TCP connection is established in time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TcpCheck {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// Common settings.
    pub common: CheckerCommon,
}

/// An inclusive range of HTTP status codes, e.g. `200-299`; a single code has `low == high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCodeRange {
    /// First code.
    pub low: u16,
    /// Last code (inclusive).
    pub high: u16,
}

impl StatusCodeRange {
    /// keepalived's default when no `status_code` is given: 200-299.
    pub const DEFAULT: StatusCodeRange = StatusCodeRange {
        low: 200,
        high: 299,
    };

    /// Whether `code` is in the range.
    pub fn contains(&self, code: u16) -> bool {
        (self.low..=self.high).contains(&code)
    }
}

/// `url { … }` in HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Url {
    /// `path` (required).
    pub path: String,
    /// `digest`: MD5 of the body, 16 bytes (configured as 32 hex digits).
    pub digest: Option<[u8; 16]>,
    /// `status_code` entries; empty means 200-299.
    pub status_codes: Vec<StatusCodeRange>,
    /// `virtualhost` for this URL.
    pub virtualhost: Option<String>,
    /// `regex` pattern (PCRE2).
    pub regex: Option<String>,
    /// `regex_no_match`: success when the regex does not match.
    pub regex_no_match: bool,
    /// `regex_options` names.
    pub regex_options: Vec<String>,
    /// `regex_min_offset`.
    pub regex_min_offset: Option<u64>,
    /// `regex_max_offset`.
    pub regex_max_offset: Option<u64>,
    /// `regex_stack START MAX`.
    pub regex_stack: Option<(u64, u64)>,
    /// Where the block starts.
    #[serde(default)]
    pub loc: Option<Loc>,
}

impl Url {
    /// The status codes counted as success.
    pub fn effective_status_codes(&self) -> Vec<StatusCodeRange> {
        if self.status_codes.is_empty() {
            vec![StatusCodeRange::DEFAULT]
        } else {
            self.status_codes.clone()
        }
    }
}

/// `http_protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HttpProtocol {
    /// `1.0` (the default).
    #[default]
    Http10,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    Http10Close,
    /// `1.1` (sends `Connection: close`).
    Http11,
}

/// `HTTP_GET { … }` and `SSL_GET { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpCheck {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// Common settings.
    pub common: CheckerCommon,
    /// `url` blocks; at least one is required.
    pub urls: Vec<Url>,
    /// `virtualhost` for the Host header.
    pub virtualhost: Option<String>,
    /// `http_protocol`.
    pub http_protocol: Option<HttpProtocol>,
    /// `enable_sni [bool]` (SSL_GET).
    pub enable_sni: Option<bool>,
    /// `sni_name` (SSL_GET, newer keepalived).
    pub sni_name: Option<String>,
    /// `fast_recovery [bool]`.
    pub fast_recovery: Option<bool>,
}

/// `MISC_CHECK { … }`: runs a script; exit 0 = up.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MiscCheck {
    /// Common settings (MISC_CHECK's default retry is 0).
    pub common: CheckerCommon,
    /// `misc_path` (required). The user and group from `user` are in its `user`.
    pub path: Option<Script>,
    /// `misc_timeout`; default the delay loop.
    pub timeout: Option<Duration>,
    /// `misc_dynamic`: exit codes 2..255 set the weight.
    pub dynamic: bool,
}

/// A deprecated `host { … }` sub-block of SMTP_CHECK: one more server to try.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SmtpHost {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// Where the block starts.
    #[serde(default)]
    pub loc: Option<Loc>,
}

/// `SMTP_CHECK { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SmtpCheck {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// Common settings.
    pub common: CheckerCommon,
    /// `helo_name`; default `smtpchecker.keepalived.org`.
    pub helo_name: Option<String>,
    /// Deprecated `host` blocks.
    pub hosts: Vec<SmtpHost>,
}

/// DNS record types DNS_CHECK can query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DnsType {
    /// A.
    A,
    /// NS.
    Ns,
    /// CNAME.
    Cname,
    /// SOA (the default).
    #[default]
    Soa,
    /// MX.
    Mx,
    /// TXT.
    Txt,
    /// AAAA.
    Aaaa,
}

impl DnsType {
    /// Parses the config spelling (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "A" => DnsType::A,
            "NS" => DnsType::Ns,
            "CNAME" => DnsType::Cname,
            "SOA" => DnsType::Soa,
            "MX" => DnsType::Mx,
            "TXT" => DnsType::Txt,
            "AAAA" => DnsType::Aaaa,
            _ => return None,
        })
    }
}

/// `DNS_CHECK { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DnsCheck {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// Common settings (DNS_CHECK's default retry is 3).
    pub common: CheckerCommon,
    /// `type`; default SOA.
    pub query_type: Option<DnsType>,
    /// `name`; default the root.
    pub name: Option<String>,
}

/// `UDP_CHECK { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UdpCheck {
    /// Where to connect.
    pub connect: ConnectOptions,
    /// Common settings.
    pub common: CheckerCommon,
    /// `payload` bytes (configured in hex); random when not set.
    pub payload: Option<Vec<u8>>,
    /// `require_reply [HEX]`: a reply is required; the optional pattern is kept as written
    /// (`X`/`x` nibbles are wildcards).
    pub require_reply: Option<Option<String>>,
    /// `min_reply_length`; default 0.
    pub min_reply_length: Option<u16>,
    /// `max_reply_length`; default 0 (no limit).
    pub max_reply_length: Option<u16>,
}

/// `PING_CHECK { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PingCheck {
    /// Where to ping.
    pub connect: ConnectOptions,
    /// Common settings.
    pub common: CheckerCommon,
}

/// `FILE_CHECK { … }`: follows a top-level `track_file`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileCheck {
    /// Common settings.
    pub common: CheckerCommon,
    /// `track_file NAME`: a `track_file` block's name.
    pub track_file: Option<String>,
    /// `weight N` (-IPVS_WEIGHT_LIMIT..=IPVS_WEIGHT_LIMIT); the file's value times this is
    /// added to the RS weight. Unset means the `track_file` block's weight (and reverse).
    pub weight: Option<i32>,
    /// `weight N reverse`.
    pub reverse: bool,
    /// Where `track_file` is written.
    #[serde(default)]
    pub loc: Option<Loc>,
}

/// `BFD_CHECK { … }`: follows a `bfd_instance`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BfdCheck {
    /// `name`: the `bfd_instance`.
    pub name: Option<String>,
    /// `alpha [bool]`.
    pub alpha: Option<bool>,
    /// Where `name` is written.
    #[serde(default)]
    pub loc: Option<Loc>,
}

/// One health checker inside a `real_server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Checker {
    /// `TCP_CHECK`.
    Tcp(TcpCheck),
    /// `HTTP_GET`.
    Http(HttpCheck),
    /// `SSL_GET`.
    Ssl(HttpCheck),
    /// `MISC_CHECK`.
    Misc(MiscCheck),
    /// `SMTP_CHECK`.
    Smtp(SmtpCheck),
    /// `DNS_CHECK`.
    Dns(DnsCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `PING_CHECK`.
    Ping(PingCheck),
    /// `FILE_CHECK`.
    File(FileCheck),
    /// `BFD_CHECK`.
    Bfd(BfdCheck),
}

impl Checker {
    /// The block keyword, e.g. `HTTP_GET`.
    pub fn keyword(&self) -> &'static str {
        match self {
            Checker::Tcp(_) => "TCP_CHECK",
            Checker::Http(_) => "HTTP_GET",
            Checker::Ssl(_) => "SSL_GET",
            Checker::Misc(_) => "MISC_CHECK",
            Checker::Smtp(_) => "SMTP_CHECK",
            Checker::Dns(_) => "DNS_CHECK",
            Checker::Udp(_) => "UDP_CHECK",
            Checker::Ping(_) => "PING_CHECK",
            Checker::File(_) => "FILE_CHECK",
            Checker::Bfd(_) => "BFD_CHECK",
        }
    }

    /// Connection options, for checkers that connect somewhere.
    pub fn connect(&self) -> Option<&ConnectOptions> {
        match self {
            Checker::Tcp(c) => Some(&c.connect),
            Checker::Http(c) | Checker::Ssl(c) => Some(&c.connect),
            Checker::Smtp(c) => Some(&c.connect),
            Checker::Dns(c) => Some(&c.connect),
            Checker::Udp(c) => Some(&c.connect),
            Checker::Ping(c) => Some(&c.connect),
            Checker::Misc(_) | Checker::File(_) | Checker::Bfd(_) => None,
        }
    }

    /// Common settings (`None` only for BFD_CHECK).
    pub fn common(&self) -> Option<&CheckerCommon> {
        match self {
            Checker::Tcp(c) => Some(&c.common),
            Checker::Http(c) | Checker::Ssl(c) => Some(&c.common),
            Checker::Misc(c) => Some(&c.common),
            Checker::Smtp(c) => Some(&c.common),
            Checker::Dns(c) => Some(&c.common),
            Checker::Udp(c) => Some(&c.common),
            Checker::Ping(c) => Some(&c.common),
            Checker::File(c) => Some(&c.common),
            Checker::Bfd(_) => None,
        }
    }

    /// keepalived's default retry count for this checker type.
    pub fn default_retry(&self) -> u32 {
        match self {
            Checker::Misc(_) => 0,
            Checker::Dns(_) => 3,
            _ => DEFAULT_RETRY,
        }
    }

    /// The retry count in force: checker, then real server, then virtual server, then the
    /// checker type's default.
    pub fn effective_retry(&self, rs: &RealServer, vs: &VirtualServer) -> u32 {
        self.common()
            .and_then(|c| c.retry)
            .or(rs.retry)
            .or(vs.retry)
            .unwrap_or_else(|| self.default_retry())
    }

    /// The check interval in force: checker, then real server, then virtual server (60 s).
    pub fn effective_delay_loop(&self, rs: &RealServer, vs: &VirtualServer) -> Duration {
        self.common()
            .and_then(|c| c.delay_loop)
            .unwrap_or_else(|| rs.effective_delay_loop(vs))
    }

    /// The pause between retries in force. HTTP_GET/SSL_GET default to 3 s, DNS_CHECK to the
    /// delay loop, others to 1 s.
    pub fn effective_delay_before_retry(&self, rs: &RealServer, vs: &VirtualServer) -> Duration {
        if let Some(d) = self
            .common()
            .and_then(|c| c.delay_before_retry)
            .or(rs.delay_before_retry)
            .or(vs.delay_before_retry)
        {
            return d;
        }
        match self {
            Checker::Http(_) | Checker::Ssl(_) => HTTP_DEFAULT_DELAY_BEFORE_RETRY,
            Checker::Dns(_) => self.effective_delay_loop(rs, vs),
            _ => DEFAULT_DELAY_BEFORE_RETRY,
        }
    }

    /// The connect timeout in force (5 s unless set at some level).
    pub fn effective_connect_timeout(&self, rs: &RealServer, vs: &VirtualServer) -> Duration {
        self.connect()
            .and_then(|c| c.connect_timeout)
            .or(rs.connect_timeout)
            .or(vs.connect_timeout)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    /// The warm-up in force (the delay loop unless set; 0 disables it).
    pub fn effective_warmup(&self, rs: &RealServer, vs: &VirtualServer) -> Duration {
        self.common()
            .and_then(|c| c.warmup)
            .or(rs.warmup)
            .or(vs.warmup)
            .unwrap_or_else(|| self.effective_delay_loop(rs, vs))
    }

    /// Whether the checker starts failed (`alpha`), resolving inheritance.
    pub fn effective_alpha(&self, rs: &RealServer, vs: &VirtualServer) -> bool {
        let own = match self {
            Checker::Bfd(b) => b.alpha,
            _ => self.common().and_then(|c| c.alpha),
        };
        own.or(rs.alpha).unwrap_or(vs.alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inheritance_and_defaults() {
        let mut vs = VirtualServer::default();
        let mut rs = RealServer::new("10.0.0.2".parse().unwrap(), 80);
        let http = Checker::Http(HttpCheck::default());
        let misc = Checker::Misc(MiscCheck::default());
        let dns = Checker::Dns(DnsCheck::default());
        assert_eq!(http.effective_retry(&rs, &vs), 1);
        assert_eq!(misc.effective_retry(&rs, &vs), 0);
        assert_eq!(dns.effective_retry(&rs, &vs), 3);
        assert_eq!(
            http.effective_delay_before_retry(&rs, &vs),
            Duration::from_secs(3)
        );
        assert_eq!(
            misc.effective_delay_before_retry(&rs, &vs),
            Duration::from_secs(1)
        );
        assert_eq!(
            dns.effective_delay_before_retry(&rs, &vs),
            Duration::from_secs(60)
        );
        assert_eq!(
            http.effective_connect_timeout(&rs, &vs),
            Duration::from_secs(5)
        );
        assert_eq!(http.effective_warmup(&rs, &vs), Duration::from_secs(60));
        vs.retry = Some(4);
        vs.delay_loop = Some(Duration::from_secs(6));
        assert_eq!(misc.effective_retry(&rs, &vs), 4);
        rs.retry = Some(2);
        assert_eq!(misc.effective_retry(&rs, &vs), 2);
        assert_eq!(http.effective_warmup(&rs, &vs), Duration::from_secs(6));
        assert!(!http.effective_alpha(&rs, &vs));
        vs.alpha = true;
        assert!(http.effective_alpha(&rs, &vs));
        rs.alpha = Some(false);
        assert!(!http.effective_alpha(&rs, &vs));
    }

    #[test]
    fn real_server_ports() {
        let mut vs = VirtualServer {
            key: VirtualServerKey::Address {
                ip: "10.0.0.1".parse().unwrap(),
                port: 80,
            },
            ..VirtualServer::default()
        };
        let mut rs = RealServer::new("10.0.0.2".parse().unwrap(), 0);
        assert_eq!(rs.effective_port(&vs), 80);
        rs.port = 8080;
        assert_eq!(rs.effective_port(&vs), 8080);
        vs.method = Some(ForwardingMethod::Dr);
        assert_eq!(rs.effective_port(&vs), 80);
        vs.key = VirtualServerKey::Fwmark(1);
        assert_eq!(rs.effective_port(&vs), 0);
        rs.method = Some(ForwardingMethod::Nat);
        assert_eq!(rs.effective_port(&vs), 8080);
    }

    #[test]
    fn scheduler_names_round_trip() {
        for (name, s) in Scheduler::ALL {
            assert_eq!(Scheduler::from_name(name), Some(s));
            assert_eq!(s.name(), name);
        }
        assert_eq!(Scheduler::from_name("WRR"), None);
    }

    #[test]
    fn key_display_follows_keepalived() {
        let k = VirtualServerKey::Address {
            ip: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        assert_eq!(k.to_string(), "[10.0.0.1]:80");
        assert_eq!(VirtualServerKey::Fwmark(5).to_string(), "FWM 5");
        assert_eq!(VirtualServerKey::Group("g".into()).to_string(), "[g]");
    }

    #[test]
    fn status_code_default() {
        let u = Url::default();
        assert_eq!(u.effective_status_codes(), vec![StatusCodeRange::DEFAULT]);
        assert!(StatusCodeRange::DEFAULT.contains(204));
        assert!(!StatusCodeRange::DEFAULT.contains(301));
    }
}
