//! rtnetlink: links, addresses, routes, macvlans (VMACs) and a change monitor.
//!
//! Built on neli's plain synchronous [`neli::socket::NlSocket`]; never neli's router, which spawns
//! a thread (the parent process must stay single-threaded until it forks). neli builds and parses
//! the fixed rtnetlink headers (`Ifinfomsg`, `Ifaddrmsg`, `Rtmsg`) and their attributes; the
//! netlink framing of received datagrams (splitting, sequence numbers, error codes, extended-ack
//! text) is read here directly (`wire.rs`) so one malformed or unexpected message never shifts the
//! parse of the ones after it.
//!
//! Two sockets, as keepalived and holo use them:
//! - [`Rtnl`]: a *blocking* request/acknowledge socket (dumps and changes). Its calls return
//!   when the kernel has answered, which for rtnetlink is immediate; a receive timeout
//!   (5 s) turns a kernel that never answers into an error instead of a frozen event loop.
//! - [`Monitor`]: a *non-blocking* socket subscribed to `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR` and
//!   `RTNLGRP_IPV6_IFADDR`, for the shell's `mio::Poll`.
//!
//! Refinements of the agreed API (`/work/prompts/sysapi.md`, "rtnetlink"):
//! - Errors are [`NetlinkError`] (operation, target interface/address, errno, the kernel's
//!   extended-ack message) rather than the crate-wide `SysError`; `From<NetlinkError> for SysError`
//!   is provided so `?` works in code returning `SysError` (the extended-ack text goes
//!   into its context).
//! - [`NetEvent::LinkChanged`] is the one variant for every `RTM_NEWLINK` (a link appeared, went
//!   up or down, gained or lost carrier, was renamed): the [`Link`] carries the new state and the
//!   caller compares it with what it knew. There is no separate `LinkUp` variant.
//! - [`RouteSpec`] also carries `route_type` (unicast, blackhole, unreachable, prohibit...) and
//!   `protocol` (default 18, `RTPROT_KEEPALIVED`), which `virtual_routes` can set;
//!   build one with [`RouteSpec::new`] and set the fields that differ.
//! - Extra helpers the shells need: [`Rtnl::link_by_name`], [`Rtnl::set_link_up`], and for
//!   VMACs [`vmac_address`], [`configure_vmac_sysctls`] / [`restore_sysctls`] (files under
//!   `/proc/sys`, not netlink, but part of setting a VMAC up).
//! - Attribute types neli has no name for are written with their raw numbers from
//!   `<linux/if_link.h>`: [`IFLA_MACVLAN_MODE`] = 1, [`MACVLAN_MODE_PRIVATE`] = 1.
//! - IPv6 /128 addresses are added with `preferred_lft 0` (deprecated), keepalived's default
//!   ([`added_deprecated`]); the `preferred_lft` keyword itself cannot be passed (`AddrSpec`
//!   has no field for it).
//!
//! - Address, route and rule changes can be made many at a time: [`Rtnl::apply`] sends up to
//!   [`BATCH_SIZE`] [`Change`]s in one datagram and matches the kernel's refusals back to them
//!   by sequence number (one result per change); the single-change calls use it too.
//! - Also beyond the agreed API: policy rules ([`RuleSpec`], [`Rtnl::add_rule`],
//!   [`Rtnl::del_rule`]) for `virtual_rules`.
//!
//! Not done (keepalived does them): `peer`, `home`, `noprefixroute`, `mngtmpaddr`, `autojoin`
//! address flags; multipath routes and route options (mtu, realms, ...); rule `uidrange`,
//! `sport`/`dport`, `ipproto`, `suppress_prefixlength`; ipvlan; noticing routes or rules
//! deleted by someone else (the monitor listens to links and addresses only).

mod addr;
mod batch;
mod error;
mod link;
mod macvlan;
mod monitor;
#[cfg(test)]
mod proptests;
mod route;
mod rule;
mod socket;
pub(crate) mod wire;

pub use addr::{
    added_deprecated, Addr, AddrSpec, IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_NODAD,
    IFA_F_SECONDARY, IFA_F_TENTATIVE,
};
pub use batch::{Change, BATCH_SIZE};
pub use error::{NetlinkError, Result};
pub use link::Link;
pub use macvlan::{
    configure_vmac_sysctls, restore_sysctls, vmac_address, vmac_sysctls, SysctlChange,
    IFLA_MACVLAN_MODE, MACVLAN_MODE_PRIVATE,
};
pub use monitor::{Monitor, NetEvent};
pub use route::{
    RouteSpec, RTN_BLACKHOLE, RTN_PROHIBIT, RTN_UNICAST, RTN_UNREACHABLE, RTPROT_KEEPALIVED,
    RT_TABLE_MAIN,
};
pub use rule::{
    RuleSpec, FR_ACT_BLACKHOLE, FR_ACT_GOTO, FR_ACT_NOP, FR_ACT_PROHIBIT, FR_ACT_TO_TBL,
    FR_ACT_UNREACHABLE,
};
pub use socket::Rtnl;
