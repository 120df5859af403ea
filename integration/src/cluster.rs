//! A lab with its nodes, the shape most scenarios need.

use std::time::Duration;

use crate::{wait_until, Lab, LabError, Node, NodeKind, Result};

/// Nodes `n1..nN` (indexes 1..N) on one lab. Fields drop in order: daemons first, then the lab.
#[derive(Debug)]
pub struct Cluster {
    /// The nodes, `n1` first.
    pub nodes: Vec<Node>,
    /// The lab they live in.
    pub lab: Lab,
}

impl Cluster {
    /// Creates a lab tagged `tag` with one node per entry of `kinds`.
    pub fn new(tag: &str, kinds: &[NodeKind]) -> Result<Cluster> {
        let mut lab = Lab::new(tag)?;
        let mut nodes = Vec::new();
        for (i, kind) in kinds.iter().enumerate() {
            let index = u8::try_from(i + 1).unwrap_or(u8::MAX);
            nodes.push(lab.add_node(&format!("n{index}"), index, *kind)?);
        }
        Ok(Cluster { nodes, lab })
    }

    /// Writes the same configuration template to every node.
    pub fn write_config_all(&self, template: &str) -> Result<()> {
        self.nodes.iter().try_for_each(|n| n.write_config(template))
    }

    /// Writes to node `i` (0-based) the template `make(i)` returns.
    pub fn write_each(&self, make: impl Fn(usize) -> String) -> Result<()> {
        self.nodes
            .iter()
            .enumerate()
            .try_for_each(|(i, n)| n.write_config(&make(i)))
    }

    /// Starts every node's daemon.
    pub fn start_all(&mut self) -> Result<()> {
        self.nodes.iter_mut().try_for_each(Node::start)
    }

    /// Names of the nodes holding `vip`.
    pub fn holders(&self, vip: &str) -> Vec<String> {
        let refs: Vec<&Node> = self.nodes.iter().collect();
        crate::holders(&refs, vip)
    }

    /// Waits until `name` is the only node holding `vip`.
    pub fn wait_sole_holder(&self, vip: &str, name: &str, timeout: Duration) -> Result<Duration> {
        let what = format!("{name} to be the only holder of {vip}");
        wait_until(&what, timeout, || self.holders(vip) == [name]).map_err(|e| self.annotate(e))
    }

    /// Checks for `dur` that `name` stays the only holder of `vip`.
    pub fn assert_stays_sole_holder(&self, vip: &str, name: &str, dur: Duration) -> Result<()> {
        let start = std::time::Instant::now();
        while start.elapsed() < dur {
            let h = self.holders(vip);
            if h != [name] {
                return Err(self.annotate(LabError::Parse {
                    cmd: format!("holders of {vip}"),
                    why: format!(
                        "expected only {name}, found {h:?} after {} ms",
                        start.elapsed().as_millis()
                    ),
                }));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Adds the node states (holders and log tails) to an error, for readable failures.
    fn annotate(&self, e: LabError) -> LabError {
        let mut why = e.to_string();
        for n in &self.nodes {
            let log = n.log();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            why.push_str(&format!(
                "\n--- {} ({}) addrs {:?}, log tail:\n{}",
                n.name(),
                n.kind().label(),
                n.addresses().unwrap_or_default(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        LabError::Scenario { details: why }
    }
}
