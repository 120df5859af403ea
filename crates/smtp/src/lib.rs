//! SMTP alerts as keepalived sends them: the mail texts, a sans-IO SMTP dialog and a client
//! that drives it on a mio event loop without ever blocking it.
//!
//! * [`alert`] (pure): subjects and bodies of keepalived 2.2 (VRRP instance, sync group, real
//!   server up/down/removed, virtual server quorum), the RFC 5322 date and the DATA section.
//! * [`dialog`] (pure): `220` → `HELO` → `MAIL FROM` → `RCPT TO`… → `DATA` → message →
//!   `QUIT`, with typed [`dialog::Failure`]s.
//! * [`client`]: one non-blocking connection per mail on a caller-given token range.
//! * [`global`]: the [`client::Settings`] `global_defs` asks for, with keepalived's defaults.
//! * [`mailer::Mailer`]: those settings, the router id and a client, kept across reloads.
//!
//! A child process uses it like this: build a [`client::Settings`] from `global_defs`
//! (`smtp_server`, `smtp_helo_name`, `notification_email_from`, `notification_email`,
//! `smtp_connect_timeout`), make a [`client::Client`] on tokens its loop does not use, then
//! `send` an [`alert::Alert`] on each event, forward readiness events of
//! [`client::Client::owns`] tokens to [`client::Client::ready`], include
//! [`client::Client::next_deadline`] in the poll timeout and call
//! [`client::Client::on_timeout`] when it has passed.

pub mod alert;
pub mod client;
pub mod dialog;
pub mod global;
pub mod mailer;
