//! The VRRP core of keepalived-rs: a pure library with no sockets, threads or clocks.
//!
//! It decodes and validates adverts, runs each instance's state machine and returns the
//! actions the VRRP child carries out. Time is always passed in.

pub mod advert;
pub mod codec;
#[doc(hidden)]
pub mod fuzzing;
pub mod instance;
pub mod sync_group;
pub mod timer;
pub mod timer_queue;

pub use advert::{Advert, AdvertHeader, Auth, Version};
