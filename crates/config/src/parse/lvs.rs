//! The LVS side of the parser: `virtual_server`, `virtual_server_group` and `SSL`.
//!
//! Stub: each block is skipped with a "not yet supported" warning.

use super::framework::{Ctx, Node};
use crate::diag::Diagnostic;
use crate::model::Config;

fn skip(ctx: &mut Ctx, node: &Node) {
    ctx.push(Diagnostic::warning(
        Some(node.loc()),
        format!("'{}' is not yet supported - block skipped", node.keyword()),
    ));
}

/// `virtual_server IP PORT | fwmark N | group NAME { ... }`.
pub fn virtual_server(ctx: &mut Ctx, _config: &mut Config, node: &Node) {
    skip(ctx, node);
}

/// `virtual_server_group NAME { ... }`.
pub fn virtual_server_group(ctx: &mut Ctx, _config: &mut Config, node: &Node) {
    skip(ctx, node);
}

/// The top-level `SSL { ... }` block.
pub fn ssl(ctx: &mut Ctx, _config: &mut Config, node: &Node) {
    skip(ctx, node);
}
