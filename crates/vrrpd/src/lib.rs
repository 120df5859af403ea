//! The VRRP child of keepalived-rs: one mio event loop that wires the pure VRRP core
//! (`keepalived_vrrp`) to the OS layer (`keepalived_sys`).

pub mod params;
