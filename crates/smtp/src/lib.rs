//! SMTP alerts as keepalived sends them: the mail texts, a sans-IO SMTP dialog and a client
//! that drives it on a mio event loop without ever blocking it.

pub mod alert;
pub mod client;
pub mod dialog;
