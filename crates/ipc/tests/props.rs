//! Properties of the framing: arbitrary bytes never panic and stay bounded, arbitrary message
//! sequences survive arbitrary chunking, and chunking never changes what is decoded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_ipc::*;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

fn vrrp_state() -> impl Strategy<Value = VrrpState> {
    prop_oneof![
        Just(VrrpState::Init),
        Just(VrrpState::Backup),
        Just(VrrpState::Master),
        Just(VrrpState::Fault),
        Just(VrrpState::Stop),
    ]
}

fn instance_status() -> impl Strategy<Value = InstanceStatus> {
    (text(), vrrp_state(), any::<u8>(), any::<u64>()).prop_map(|(name, state, priority, us)| {
        InstanceStatus {
            name,
            state,
            priority,
            since: UnixMicros(us),
        }
    })
}

fn to_child() -> impl Strategy<Value = ToChild> {
    let kind = prop_oneof![
        Just(TrackerKind::Script),
        Just(TrackerKind::File),
        Just(TrackerKind::Process),
        Just(TrackerKind::Bfd),
    ];
    let status = prop_oneof![
        Just(TrackerStatus::Good),
        Just(TrackerStatus::Bad),
        any::<i64>().prop_map(TrackerStatus::Value),
    ];
    prop_oneof![
        any::<u32>().prop_map(|version| ToChild::Hello { version }),
        Just(ToChild::Start {
            config: Box::default()
        }),
        Just(ToChild::Reload {
            config: Box::default()
        }),
        (any::<u64>(), any::<bool>()).prop_map(|(id, json)| ToChild::Dump {
            id,
            format: if json {
                DumpFormat::Json
            } else {
                DumpFormat::Data
            },
        }),
        (any::<u64>(), any::<bool>()).prop_map(|(id, clear)| ToChild::Stats { id, clear }),
        Just(ToChild::Shutdown),
        (text(), any::<bool>()).prop_map(|(script, good)| ToChild::TrackUpdate { script, good }),
        (kind, text(), status).prop_map(|(kind, name, status)| ToChild::TrackerUpdate {
            kind,
            name,
            status
        }),
        prop::collection::vec(instance_status(), 0..4)
            .prop_map(|last_states| ToChild::Resume { last_states }),
        Just(ToChild::PrepareReload),
        (
            any::<u32>(),
            prop::collection::vec(prop::option::of(any::<u32>()), 0..6)
        )
            .prop_map(|(base_len, order)| ToChild::ReloadDelta {
                base_len,
                config: Box::default(),
                order: order
                    .into_iter()
                    .map(|o| o.map_or(InstanceFrom::Sent, InstanceFrom::Base))
                    .collect(),
            }),
    ]
}

fn to_parent() -> impl Strategy<Value = ToParent> {
    let exit = prop_oneof![
        any::<i32>().prop_map(ScriptExit::Exited),
        any::<i32>().prop_map(ScriptExit::Signaled),
        Just(ScriptExit::TimedOut),
        Just(ScriptExit::SpawnFailed),
    ];
    let level = prop_oneof![
        Just(LogLevel::Error),
        Just(LogLevel::Warn),
        Just(LogLevel::Info),
        Just(LogLevel::Debug),
        Just(LogLevel::Trace),
    ];
    prop_oneof![
        any::<u32>().prop_map(|version| ToParent::Hello { version }),
        Just(ToParent::Ready),
        Just(ToParent::ReloadNeedsFull),
        prop::collection::vec(text(), 0..4).prop_map(|warnings| ToParent::ReloadDone { warnings }),
        instance_status().prop_map(ToParent::InstanceState),
        (any::<u64>(), text()).prop_map(|(id, text)| ToParent::DumpReply { id, text }),
        (any::<u64>(), text()).prop_map(|(id, text)| ToParent::StatsReply { id, text }),
        (level, text()).prop_map(|(level, text)| ToParent::Log { level, text }),
        (text(), any::<bool>(), exit).prop_map(|(script, good, exit)| ToParent::ScriptResult {
            script,
            good,
            exit
        }),
        (text(), text(), any::<bool>()).prop_map(|(vs, rs, up)| ToParent::RealServerState {
            vs,
            rs,
            up
        }),
    ]
}

/// Cuts `bytes` at the given points (taken modulo the length, sorted).
fn chunks<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

/// What a decoder makes of a stream: each message or error (by kind), in order.
#[derive(Debug, PartialEq)]
enum Outcome<M> {
    Msg(M),
    Dropped,
    Fatal,
}

fn run<M: Message>(pieces: &[&[u8]]) -> (Vec<Outcome<M>>, FrameDecoder<M>) {
    let mut d = FrameDecoder::<M>::new();
    let mut out = Vec::new();
    'feed: for piece in pieces {
        if d.push(piece).is_err() {
            break;
        }
        loop {
            match d.pop() {
                Ok(Some(msg)) => out.push(Outcome::Msg(msg)),
                Ok(None) => break,
                Err(e) if e.is_fatal() => {
                    out.push(Outcome::Fatal);
                    break 'feed;
                }
                Err(_) => out.push(Outcome::Dropped),
            }
        }
        // Between pushes nothing but one unfinished frame waits: its header or fewer bytes
        // than its (legal) length announces.
        let waiting = d.buffered();
        assert!(waiting <= HEADER_LEN + MAX_FRAME_LEN);
    }
    (out, d)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048),
                                   cuts in prop::collection::vec(any::<usize>(), 0..8)) {
        let pieces = chunks(&bytes, &cuts);
        let (outcomes, d) = run::<ToChild>(&pieces);
        let stats = d.stats();
        prop_assert!(stats.bytes_in <= bytes.len() as u64);
        prop_assert!(d.buffered() <= bytes.len());
        // Every decoded or dropped frame used at least its header.
        prop_assert!((stats.frames_ok + stats.frames_dropped) * HEADER_LEN as u64 <= bytes.len() as u64);
        if d.is_broken() {
            prop_assert_eq!(d.buffered(), 0);
            prop_assert_eq!(outcomes.last(), Some(&Outcome::Fatal));
        }
        let _ = run::<ToParent>(&pieces);
    }

    /// Garbage payloads behind honest length prefixes: every frame is either a message or
    /// dropped, and the stream never breaks.
    #[test]
    fn garbage_payloads_with_honest_lengths_drop_one_frame_each(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = Vec::new();
        for p in &payloads {
            stream.extend_from_slice(&(p.len() as u32).to_be_bytes());
            stream.extend_from_slice(p);
        }
        let (outcomes, d) = run::<ToParent>(&chunks(&stream, &cuts));
        prop_assert_eq!(outcomes.len(), payloads.len());
        prop_assert!(!outcomes.contains(&Outcome::Fatal));
        prop_assert_eq!(d.buffered(), 0);
        prop_assert!(d.finish().is_ok());
    }

    /// However a stream is cut, the decoder sees the same messages and errors.
    #[test]
    fn chunking_does_not_change_the_outcome(
        msgs in prop::collection::vec(to_parent(), 0..8),
        noise in prop::collection::vec(any::<u8>(), 0..32),
        at in any::<usize>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            encode_into(m, &mut stream).unwrap();
        }
        let at = at % (stream.len() + 1);
        let mut noisy = stream[..at].to_vec();
        noisy.extend_from_slice(&noise);
        noisy.extend_from_slice(&stream[at..]);
        let (whole, _) = run::<ToParent>(&[&noisy]);
        let (cut, _) = run::<ToParent>(&chunks(&noisy, &cuts));
        prop_assert_eq!(whole, cut);
    }

    #[test]
    fn child_messages_survive_arbitrary_chunking(
        msgs in prop::collection::vec(to_child(), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            encode_into(m, &mut stream).unwrap();
        }
        let (outcomes, d) = run::<ToChild>(&chunks(&stream, &cuts));
        let expected: Vec<_> = msgs.into_iter().map(Outcome::Msg).collect();
        prop_assert_eq!(outcomes, expected);
        prop_assert!(d.finish().is_ok());
        prop_assert_eq!(d.stats().bytes_in, stream.len() as u64);
    }

    #[test]
    fn parent_messages_survive_arbitrary_chunking(
        msgs in prop::collection::vec(to_parent(), 0..12),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut stream = Vec::new();
        for m in &msgs {
            encode_into(m, &mut stream).unwrap();
        }
        let (outcomes, d) = run::<ToParent>(&chunks(&stream, &cuts));
        let expected: Vec<_> = msgs.into_iter().map(Outcome::Msg).collect();
        prop_assert_eq!(outcomes, expected);
        prop_assert!(d.finish().is_ok());
    }

    /// A stream cut short anywhere inside its last frame is reported as truncated.
    #[test]
    fn truncation_is_reported(msgs in prop::collection::vec(to_parent(), 1..6), keep in any::<usize>()) {
        let mut stream = Vec::new();
        let mut last_start = 0;
        for m in &msgs {
            last_start = stream.len();
            encode_into(m, &mut stream).unwrap();
        }
        let cut = last_start + keep % (stream.len() - last_start);
        let (outcomes, d) = run::<ToParent>(&[&stream[..cut]]);
        prop_assert_eq!(outcomes.len(), msgs.len() - 1);
        let truncated = matches!(d.finish(), Err(FrameError::Truncated { .. }));
        prop_assert_eq!(truncated, cut > last_start);
    }
}
