//! vrrp_script end to end: a script reading a file the test flips; `weight -50` on the
//! master (priority 120 -> 70) makes the backup (100) take over, then the master preempts
//! back when the script succeeds again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use keepalived_integration::{describe, kind_sets, render, Cluster, Instance};

const VIP: &str = "192.0.2.100";

/// The instance text with a `track_script` block added.
fn with_track_script(text: &str, script: &str) -> String {
    text.replacen(
        "vrrp_instance VI_1 {\n",
        &format!("vrrp_instance VI_1 {{\n    track_script {{\n        {script}\n    }}\n"),
        1,
    )
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn a_failing_script_with_negative_weight_moves_the_vip_and_back() {
    for kinds in kind_sets("vrrp_script", 2) {
        println!("== vrrp_script weight -50: {}", describe(&kinds));
        let mut c = Cluster::new("vs", &kinds).unwrap();
        let dir = c.nodes[0].dir().to_path_buf();
        let flag = dir.join("flag");
        std::fs::write(&flag, "0\n").unwrap();
        let script = dir.join("chk.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nexit $(cat {})\n", flag.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        c.write_each(|i| {
            let inst = Instance::new(
                "VI_1",
                51,
                if i == 0 { 120 } else { 100 },
                &["192.0.2.100/32"],
            );
            let text = render(&[inst], &[], &[]);
            if i == 0 {
                let globals = "global_defs {\n    router_id @NAME@\n}\n";
                let text = text.replacen(
                    globals,
                    "global_defs {\n    router_id @NAME@\n    enable_script_security\n    script_user root\n}\n\
                     vrrp_script chk {\n    script \"@DIR@/chk.sh\"\n    interval 1\n    weight -50\n    rise 1\n    fall 1\n}\n",
                    1,
                );
                with_track_script(&text, "chk")
            } else {
                text
            }
        })
        .unwrap();
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        let t = Instant::now();
        std::fs::write(&flag, "1\n").unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(8))
            .unwrap();
        println!(
            "script fails (120-50=70 < 100): n2 took over after {} ms",
            t.elapsed().as_millis()
        );
        let t = Instant::now();
        std::fs::write(&flag, "0\n").unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        println!(
            "script succeeds (120): n1 preempted after {} ms",
            t.elapsed().as_millis()
        );
    }
}
