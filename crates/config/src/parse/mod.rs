//! From logical lines to the typed model: top-level dispatch and one module per block family.
//!
//! See [`framework`] for how blocks are walked and how to add one.

pub mod framework;
pub mod lvs;

use crate::lexer::Line;
use crate::model::Config;
use framework::{block, build_tree, walk, Ctx, Keyword};

/// The top-level keyword table.
const TOP: &[Keyword<Config>] = &[
    block("virtual_server", lvs::virtual_server),
    block("virtual_server_group", lvs::virtual_server_group),
    block("SSL", lvs::ssl),
];

/// Parses logical lines into a [`Config`], reporting problems to `ctx`.
pub fn parse(lines: Vec<Line>, ctx: &mut Ctx) -> Config {
    let tree = build_tree(lines, ctx);
    let mut config = Config::default();
    walk(ctx, &mut config, &tree, TOP);
    config
}
