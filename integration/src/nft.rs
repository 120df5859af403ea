//! nftables rules inside a node namespace, removed again on drop.

use crate::cmd::run_with_input;
use crate::{Node, Result};

/// An nftables table `inet krs_lab` with the given rules in the node's namespace; dropping the
/// guard deletes the table.
#[derive(Debug)]
pub struct NftGuard {
    ns: String,
}

impl NftGuard {
    /// Installs `rules` (nft statements, e.g. `meta l4proto 112 drop`) on both the input and
    /// the output hook of `node`.
    pub fn new(node: &Node, input_rules: &[&str], output_rules: &[&str]) -> Result<NftGuard> {
        let mut script = String::from(
            "add table inet krs_lab\n\
             add chain inet krs_lab in { type filter hook input priority 0; }\n\
             add chain inet krs_lab out { type filter hook output priority 0; }\n",
        );
        for r in input_rules {
            script.push_str(&format!("add rule inet krs_lab in {r}\n"));
        }
        for r in output_rules {
            script.push_str(&format!("add rule inet krs_lab out {r}\n"));
        }
        run_with_input(
            "ip",
            &["netns", "exec", node.ns(), "nft", "-f", "-"],
            Some(&script),
        )?;
        Ok(NftGuard {
            ns: node.ns().to_string(),
        })
    }

    /// Removes the rules now (same as dropping the guard).
    pub fn remove(self) {}
}

impl Drop for NftGuard {
    fn drop(&mut self) {
        let _ = crate::cmd::in_ns(&self.ns, "nft", &["delete", "table", "inet", "krs_lab"]);
    }
}

/// A partition of one node: every VRRP packet (IP protocol 112) in and out is dropped, while
/// ARP and everything else still pass.
#[derive(Debug)]
pub struct Partition {
    _guard: NftGuard,
}

impl Partition {
    /// Cuts `node` off from VRRP traffic until the value is dropped.
    pub fn new(node: &Node) -> Result<Partition> {
        let rule = "meta l4proto 112 drop";
        Ok(Partition {
            _guard: NftGuard::new(node, &[rule], &[rule])?,
        })
    }

    /// Heals the partition now (same as dropping it).
    pub fn heal(self) {}
}
