//! Every message through encode -> chunked stream -> FrameDecoder, with real configuration
//! models, plus the golden bytes of `Hello` that must never change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{load_str, AssumeAll, Config, LoadOptions};
use keepalived_ipc::*;
use std::path::Path;

const REALISTIC: &str = r#"
global_defs {
    router_id lb1
    script_user root
    enable_script_security
    vrrp_garp_master_delay 5
    notification_email {
        ops@example.com
    }
    notification_email_from lb1@example.com
    smtp_server 127.0.0.1
}
vrrp_script chk_haproxy {
    script "/usr/bin/pgrep haproxy"
    interval 2
    timeout 3
    fall 2
    rise 3
    weight -20
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_6
    }
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    track_script {
        chk_haproxy
    }
    track_interface {
        eth1 weight 10
    }
    virtual_ipaddress {
        10.0.0.100/24 dev eth0 label eth0:vip
        10.0.0.101/24 brd + scope global
    }
    virtual_routes {
        192.168.50.0/24 via 10.0.0.1 dev eth0
    }
    notify_master "/etc/keepalived/notify.sh MASTER"
    notify "/etc/keepalived/notify.sh"
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority 100
    version 3
    advert_int 0.5
    unicast_src_ip fe80::1
    unicast_peer {
        fe80::2
    }
    virtual_ipaddress {
        2001:db8::100/64
    }
}
virtual_server 10.0.0.100 80 {
    delay_loop 6
    lb_algo wrr
    lb_kind NAT
    persistence_timeout 50
    protocol TCP
    sorry_server 10.0.0.250 80
    real_server 10.0.1.11 80 {
        weight 3
        HTTP_GET {
            url {
                path /health
                status_code 200
                digest 9b3a0c85a887a256d6939da88aabd8cd
            }
            connect_timeout 3
            retry 3
            delay_before_retry 2
        }
    }
    real_server 10.0.1.12 80 {
        weight 1
        TCP_CHECK {
            connect_port 80
            connect_timeout 2
        }
    }
    real_server 10.0.1.13 80 {
        MISC_CHECK {
            misc_path "/usr/local/bin/check.sh 10.0.1.13"
            misc_timeout 5
        }
    }
}
virtual_server fwmark 5 {
    lb_algo rr
    lb_kind DR
    real_server 10.0.1.21 0 {
        TCP_CHECK {
            connect_port 443
        }
    }
}
"#;

fn realistic_config() -> Config {
    let loaded = load_str(
        "realistic.conf",
        REALISTIC,
        &LoadOptions::default(),
        &AssumeAll,
    );
    let config = loaded.config;
    // Make sure the text really populated the model (a typo would leave it empty).
    assert_eq!(config.vrrp_instances.len(), 2, "{:?}", loaded.diagnostics);
    assert_eq!(config.vrrp_scripts.len(), 1);
    assert_eq!(config.sync_groups.len(), 1);
    config
}

fn every_to_child(config: &Config) -> Vec<ToChild> {
    vec![
        ToChild::Hello {
            version: PROTOCOL_VERSION,
        },
        ToChild::Start {
            config: Box::new(config.clone()),
        },
        ToChild::Start {
            config: Box::default(),
        },
        ToChild::Reload {
            config: Box::new(config.clone()),
        },
        ToChild::Dump {
            id: 7,
            format: DumpFormat::Data,
        },
        ToChild::Dump {
            id: u64::MAX,
            format: DumpFormat::Json,
        },
        ToChild::Stats { id: 8, clear: true },
        ToChild::Shutdown,
        ToChild::TrackUpdate {
            script: "chk_haproxy".into(),
            good: false,
        },
        ToChild::TrackerUpdate {
            kind: TrackerKind::File,
            name: "tf".into(),
            status: TrackerStatus::Value(-254),
        },
        ToChild::TrackerUpdate {
            kind: TrackerKind::Process,
            name: "haproxy".into(),
            status: TrackerStatus::Bad,
        },
        ToChild::TrackerUpdate {
            kind: TrackerKind::Bfd,
            name: "bfd1".into(),
            status: TrackerStatus::Good,
        },
        ToChild::Resume {
            last_states: vec![
                InstanceStatus {
                    name: "VI_1".into(),
                    state: VrrpState::Master,
                    priority: 150,
                    since: UnixMicros(1_700_000_000_123_456),
                },
                InstanceStatus {
                    name: "VI_6".into(),
                    state: VrrpState::Fault,
                    priority: 0,
                    since: UnixMicros(0),
                },
            ],
        },
        ToChild::Resume {
            last_states: vec![],
        },
        ToChild::PrepareReload,
        ToChild::ReloadDelta {
            base_len: 2,
            config: Box::new(config.clone()),
            order: vec![
                InstanceFrom::Base(1),
                InstanceFrom::Sent,
                InstanceFrom::Sent,
            ],
        },
        ToChild::ReloadDelta {
            base_len: 0,
            config: Box::default(),
            order: vec![],
        },
    ]
}

fn every_to_parent() -> Vec<ToParent> {
    let mut all = vec![
        ToParent::Hello {
            version: PROTOCOL_VERSION,
        },
        ToParent::Ready,
        ToParent::ReloadNeedsFull,
        ToParent::ReloadDone { warnings: vec![] },
        ToParent::ReloadDone {
            warnings: vec!["(VI_1) unknown interface eth9".into(), "ünïcode ✓".into()],
        },
        ToParent::DumpReply {
            id: 1,
            text: "------< VRRP Topology >------\n".into(),
        },
        ToParent::StatsReply {
            id: 2,
            text: "VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n".into(),
        },
        ToParent::ScriptResult {
            script: "chk_haproxy".into(),
            good: true,
            exit: ScriptExit::Exited(0),
        },
        ToParent::ScriptResult {
            script: "chk_haproxy".into(),
            good: false,
            exit: ScriptExit::Signaled(9),
        },
        ToParent::ScriptResult {
            script: "x".into(),
            good: false,
            exit: ScriptExit::TimedOut,
        },
        ToParent::ScriptResult {
            script: "x".into(),
            good: false,
            exit: ScriptExit::SpawnFailed,
        },
        ToParent::RealServerState {
            vs: "[10.0.0.100]:tcp:80".into(),
            rs: "[10.0.1.11]:tcp:80".into(),
            up: true,
        },
    ];
    for state in [
        VrrpState::Init,
        VrrpState::Backup,
        VrrpState::Master,
        VrrpState::Fault,
        VrrpState::Stop,
    ] {
        all.push(ToParent::InstanceState(InstanceStatus {
            name: "VI_1".into(),
            state,
            priority: 255,
            since: UnixMicros(u64::MAX),
        }));
    }
    for level in [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ] {
        all.push(ToParent::Log {
            level,
            text: "Entering MASTER STATE".into(),
        });
    }
    all
}

fn round_trip<M: Message + PartialEq + std::fmt::Debug>(msg: &M) {
    let bytes = encode(msg).unwrap();
    let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(len + HEADER_LEN, bytes.len());
    assert_eq!(&decode_payload::<M>(&bytes[HEADER_LEN..]).unwrap(), msg);
    let mut d = FrameDecoder::<M>::new();
    d.push(&bytes).unwrap();
    assert_eq!(d.pop().unwrap().as_ref(), Some(msg));
    assert_eq!(d.pop().unwrap(), None);
    d.finish().unwrap();
}

#[test]
fn every_message_round_trips() {
    let config = realistic_config();
    for msg in every_to_child(&config) {
        round_trip(&msg);
    }
    for msg in every_to_parent() {
        round_trip(&msg);
    }
}

#[test]
fn default_config_round_trips() {
    round_trip(&ToChild::Start {
        config: Box::new(Config::default()),
    });
    // And the model of an empty file, which has keepalived's defaults applied.
    let empty = load_str("empty.conf", "", &LoadOptions::default(), &AssumeAll).config;
    round_trip(&ToChild::Reload {
        config: Box::new(empty),
    });
}

/// Both streams, concatenated, split into two chunks at every byte.
#[test]
fn chunked_delivery_at_every_split_point() {
    let config = realistic_config();
    let to_child = every_to_child(&config);
    let mut stream = Vec::new();
    for msg in &to_child {
        encode_into(msg, &mut stream).unwrap();
    }
    for split in 0..=stream.len() {
        let mut d = FrameDecoder::<ToChild>::new();
        let mut got = Vec::new();
        for chunk in [&stream[..split], &stream[split..]] {
            d.push(chunk).unwrap();
            while let Some(msg) = d.pop().unwrap() {
                got.push(msg);
            }
        }
        d.finish().unwrap();
        assert_eq!(got, to_child, "split at {split}");
    }

    let to_parent = every_to_parent();
    let mut stream = Vec::new();
    for msg in &to_parent {
        encode_into(msg, &mut stream).unwrap();
    }
    for split in 0..=stream.len() {
        let mut d = FrameDecoder::<ToParent>::new();
        let mut got = Vec::new();
        for chunk in [&stream[..split], &stream[split..]] {
            d.push(chunk).unwrap();
            while let Some(msg) = d.pop().unwrap() {
                got.push(msg);
            }
        }
        assert_eq!(got, to_parent, "split at {split}");
    }
}

#[test]
fn byte_at_a_time_delivery() {
    let config = realistic_config();
    let msgs = every_to_child(&config);
    let mut stream = Vec::new();
    for msg in &msgs {
        encode_into(msg, &mut stream).unwrap();
    }
    let mut d = FrameDecoder::<ToChild>::new();
    let mut got = Vec::new();
    for byte in &stream {
        d.push(std::slice::from_ref(byte)).unwrap();
        while let Some(msg) = d.pop().unwrap() {
            got.push(msg);
        }
        // Never more than one partial frame waits in the buffer.
        assert!(d.buffered() <= stream.len());
    }
    assert_eq!(got, msgs);
    assert_eq!(d.stats().frames_ok, msgs.len() as u64);
    assert_eq!(d.stats().bytes_in, stream.len() as u64);
}

/// The `Hello` frames are the one part of the protocol that must read the same in every
/// version; if this test fails, a change broke cross-version mismatch detection.
#[test]
fn hello_bytes_are_frozen() {
    let version = 0x1234_u32;
    // Length 4; variant 0; varint u16 marker 251 and 0x1234 little-endian.
    let expected = [0, 0, 0, 4, 0, 251, 0x34, 0x12];
    assert_eq!(encode(&ToChild::Hello { version }).unwrap(), expected);
    assert_eq!(encode(&ToParent::Hello { version }).unwrap(), expected);
    assert_eq!(
        encode(&ToParent::Hello { version: 1 }).unwrap(),
        [0, 0, 0, 2, 0, 1]
    );
}

#[test]
fn version_mismatch_is_detected_across_the_wire() {
    let bytes = encode(&ToParent::Hello {
        version: PROTOCOL_VERSION + 41,
    })
    .unwrap();
    let mut d = FrameDecoder::<ToParent>::new();
    d.push(&bytes).unwrap();
    let first = d.pop().unwrap().unwrap();
    assert_eq!(
        check_hello(&first),
        Err(HandshakeError::VersionMismatch {
            ours: PROTOCOL_VERSION,
            theirs: PROTOCOL_VERSION + 41
        })
    );
    // A child seeing Start before Hello refuses it.
    let start = ToChild::Start {
        config: Box::default(),
    };
    assert_eq!(
        check_hello(&start),
        Err(HandshakeError::NotHello {
            got: "Start".into()
        })
    );
}

#[test]
fn encode_into_appends_and_leaves_buffer_alone_on_error() {
    let mut out = vec![9, 9];
    encode_into(&ToParent::Ready, &mut out).unwrap();
    assert_eq!(out, [9, 9, 0, 0, 0, 1, 1]);
}

/// A path that is not UTF-8 cannot be encoded by bincode's serde support: the error is typed
/// and the output buffer is untouched.
#[cfg(unix)]
#[test]
fn unencodable_value_is_a_typed_error() {
    use std::os::unix::ffi::OsStrExt;
    #[derive(serde::Serialize)]
    struct WithPath(std::path::PathBuf);
    let bad = WithPath(Path::new(std::ffi::OsStr::from_bytes(b"/tmp/\xff")).to_path_buf());
    let mut out = vec![1, 2, 3];
    let err = encode_into(&bad, &mut out).unwrap_err();
    assert!(matches!(err, EncodeError::Bincode(_)), "{err}");
    assert_eq!(out, [1, 2, 3]);
}

/// Every configuration of the shared corpus that loads (whatever its verdict) must survive
/// the trip to a child unchanged. Skipped when the corpus is not there.
#[test]
fn corpus_configs_round_trip() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/configs");
    if !root.is_dir() {
        eprintln!("corpus not found at {}: skipped", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "conf") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let config = load_str(
            &path.display().to_string(),
            &text,
            &LoadOptions::default(),
            &AssumeAll,
        )
        .config;
        let msg = ToChild::Start {
            config: Box::new(config),
        };
        let outcome = encode(&msg)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                decode_payload::<ToChild>(&bytes[HEADER_LEN..]).map_err(|e| e.to_string())
            })
            .and_then(|back| {
                if back == msg {
                    Ok(())
                } else {
                    Err("decoded model differs".to_string())
                }
            });
        if let Err(e) = outcome {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    eprintln!("{} corpus configs round-tripped", files.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Writes one seed file per message for the `frame_decoder` fuzz target into the directory
/// named by `KEEPALIVED_IPC_SEEDS` (a selector byte, then the frame).
#[test]
#[ignore = "utility: writes fuzz seeds"]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("KEEPALIVED_IPC_SEEDS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let config = realistic_config();
    let mut frames: Vec<Vec<u8>> = every_to_child(&config)
        .iter()
        .map(|m| encode(m).unwrap())
        .collect();
    frames.extend(every_to_parent().iter().map(|m| encode(m).unwrap()));
    for (i, frame) in frames.iter().enumerate() {
        let mut seed = vec![i as u8];
        seed.extend_from_slice(frame);
        std::fs::write(Path::new(&dir).join(format!("seed-{i:02}")), seed).unwrap();
    }
}
