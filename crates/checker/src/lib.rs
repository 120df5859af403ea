//! The health-check child of keepalived-rs: one mio event loop that runs `vrrp_script`s and the
//! real-server checks of `virtual_server`s, using the pure core in `keepalived_check`.
