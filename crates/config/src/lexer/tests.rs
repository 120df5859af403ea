//! Golden tests of the whole preprocessor: the worked examples of keepalived.conf(5)
//! (expected output written from the man page's statements), includes, locations, limits.

use super::*;
use crate::diag::{ConfigClass, Severity};
use std::path::PathBuf;

/// The lines of `lexed`, kept for the rest of the test run (tests only: they are small).
fn leak(lexed: Lexed) -> Vec<Line<'static>> {
    let lexed: &'static Lexed = Box::leak(Box::new(lexed));
    let tokens: &'static [Token<'static>] = Box::leak(lexed.tokens().into_boxed_slice());
    lexed.lines(tokens)
}

fn lex_with(text: &str, id: &str) -> (Vec<Line<'static>>, Vec<Diagnostic>) {
    let mut sm = SourceMap::new();
    let mut d = Vec::new();
    let opts = PreprocessOptions {
        config_id: id.to_string(),
        random_seed: Some(42),
        ..Default::default()
    };
    let lines = leak(lex_str(
        Path::new("t.conf"),
        text.to_string(),
        &opts,
        &mut sm,
        &mut d,
    ));
    (lines, d)
}

fn lex(text: &str) -> Vec<Line<'static>> {
    lex_with(text, "vm").0
}

/// Each line as its words joined by one space.
fn flat(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.tokens
                .iter()
                .map(|t| t.text)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn words<'a>(lines: &[Line<'a>]) -> Vec<Vec<&'a str>> {
    lines
        .iter()
        .map(|l| l.tokens.iter().map(|t| t.text).collect())
        .collect()
}

#[test]
fn braces_follow_the_contract() {
    let lines = lex("vrrp_instance VI_1 { state MASTER\n virtual_ipaddress { 10.0.0.1 } }\n");
    assert_eq!(
        words(&lines),
        vec![
            vec!["vrrp_instance", "VI_1", "{"],
            vec!["state", "MASTER"],
            vec!["virtual_ipaddress", "{"],
            vec!["10.0.0.1"],
            vec!["}"],
            vec!["}"],
        ]
    );
    assert_eq!(lines[1].loc().col, 22);
    assert_eq!(lines[0].raw, "vrrp_instance VI_1");
    assert_eq!(lines[0].tokens[2].loc.col, 20);
}

#[test]
fn brace_on_the_next_line_and_lone_braces() {
    let lines = lex("global_defs\n{\n  router_id a }\n}k\n");
    assert_eq!(
        flat(&lines),
        ["global_defs", "{", "router_id a", "}", "}", "k"]
    );
    assert!(lines[1].is_open() && lines[3].is_close());
}

#[test]
fn comments_and_quotes() {
    let lines = lex("script \"/bin/x -a # not a comment\" # comment\n! whole line\n");
    assert_eq!(
        words(&lines),
        vec![vec!["script", "/bin/x -a # not a comment"]]
    );
    assert!(lines[0].tokens[1].quoted);
    assert_eq!(lines[0].raw, "script \"/bin/x -a # not a comment\"");
}

#[test]
fn escapes_crlf_and_blanks() {
    let lines = lex("  a\\#b \\!c  \r\n\r\n\tnext\t# x\r\n");
    assert_eq!(flat(&lines), ["a#b !c", "next"]);
    assert_eq!(lines[0].tokens[0].loc.col, 3);
    assert_eq!(lines[1].loc().line, 3);
}

#[test]
fn quoted_brace_is_not_a_brace() {
    let lines = lex("notify \"{\" x\n");
    assert_eq!(words(&lines), vec![vec!["notify", "{", "x"]]);
    assert!(!lines[0].opens_block());
}

#[test]
fn long_lines_and_nuls_are_ignored_with_a_warning() {
    let long = format!("k {}\nok\nbad\0line\nok2\n", "x".repeat(1100));
    let (lines, d) = lex_with(&long, "vm");
    assert_eq!(flat(&lines), ["ok", "ok2"]);
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].message, "line too long - ignoring");
    assert_eq!(d[0].loc.map(|l| l.line), Some(1));
    assert!(d[1].message.contains("NUL"));
    // 1022 characters still fit keepalived's buffer.
    let fits = format!("{}\n", "y".repeat(1022));
    assert_eq!(lex_with(&fits, "vm").1.len(), 0);
}

// --- keepalived.conf(5) "Conditional configuration and configuration id" ---------------

const CONDITIONAL: &str = "\
global_defs {
    @main   router_id main_router
    @backup router_id backup_router
}
vrrp_instance VRRP {
    @main    unicast_src_ip 1.2.3.4
    @backup  unicast_src_ip 1.2.3.5
    @backup2 unicast_src_ip 1.2.3.6
    unicast_peer {
        @^main    1.2.3.4
        @^backup  1.2.3.5
        @^backup2 1.2.3.6
    }
}
";

#[test]
fn man_conditional_main() {
    let (lines, d) = lex_with(CONDITIONAL, "main");
    assert!(d.is_empty());
    assert_eq!(
        flat(&lines),
        [
            "global_defs {",
            "router_id main_router",
            "}",
            "vrrp_instance VRRP {",
            "unicast_src_ip 1.2.3.4",
            "unicast_peer {",
            "1.2.3.5",
            "1.2.3.6",
            "}",
            "}"
        ]
    );
    // The word after the condition keeps its own column.
    assert_eq!(lines[1].loc().col, 13);
}

#[test]
fn man_conditional_other_ids() {
    let (lines, _) = lex_with(CONDITIONAL, "backup");
    assert!(flat(&lines).contains(&"router_id backup_router".to_string()));
    let (lines, _) = lex_with(CONDITIONAL, "somethingelse");
    let f = flat(&lines);
    assert!(!f.iter().any(|l| l.starts_with("router_id")));
    assert!(f.contains(&"1.2.3.4".to_string()) && f.contains(&"1.2.3.6".to_string()));
    // "@" alone on a line, or with nothing after the id, drops the line.
    assert_eq!(flat(&lex_with("@main\n@\nx\n", "main").0), ["x"]);
}

// --- "Parameter substitution" ----------------------------------------------------------

#[test]
fn man_substitution_at_use_time() {
    let lines = lex("$ADDRESS_BASE=10.2.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=0\n${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=10\n${ADDRESS_BASE}.100/32\n");
    assert_eq!(flat(&lines), ["10.2.0.100/32", "10.2.10.100/32"]);
    // Substituted text is located at the use.
    assert_eq!(lines[0].loc().line, 3);
    assert_eq!(lines[1].loc().line, 5);
}

#[test]
fn man_substitution_with_conditionals() {
    let text = "@main $PRIORITY=240\n@backup $PRIORITY=200\nvrrp_instance VI_0 {\n    priority $PRIORITY\n}\n";
    assert_eq!(flat(&lex_with(text, "main").0)[1], "priority 240");
    assert_eq!(flat(&lex_with(text, "backup").0)[1], "priority 200");
    assert_eq!(flat(&lex_with(text, "x").0)[1], "priority $PRIORITY");

    let text = "$IF_MAIN=@main\n$IF_MAIN priority 240\n";
    assert_eq!(flat(&lex_with(text, "main").0), ["priority 240"]);
    assert!(lex_with(text, "backup").0.is_empty());
}

#[test]
fn undefined_and_empty_definitions() {
    let lines = lex("$E=\nx${E}y $UNDEF $ a$\nscript \"echo $HOME ${UNDEF}\"\n");
    assert_eq!(
        flat(&lines),
        ["xy $UNDEF $ a$", "script echo $HOME ${UNDEF}"]
    );
    // Unquoted, an undefined ${X} is split at its braces, as keepalived does.
    assert_eq!(flat(&lex("x${UNDEF}y\n")), ["x$ {", "UNDEF", "}", "y"]);
}

#[test]
fn hash_and_bang_follow_keepalived() {
    // Outside quotes the substituted '#' starts a comment (keepalived re-decomments).
    let lines =
        lex("$STRICT=${_HASH}\n${STRICT} vrrp_strict\nk a${_HASH}b\nk \"a${_HASH}b${_BANG}\"\n");
    assert_eq!(flat(&lines), ["k a", "k a#b!"]);
}

#[test]
fn predefined_instance_and_random() {
    let (lines, _) = lex_with("k ${_INSTANCE} $_INSTANCE\nr ${_RANDOM 10 12}\n", "node1");
    assert_eq!(words(&lines)[0], ["k", "node1", "node1"]);
    let r: u32 = lines[1].tokens[1].text.parse().unwrap();
    assert!((10..=12).contains(&r));
}

const MULTILINE: &str = "\
$INSTANCE= \\
vrrp_instance VI_${NUM} { \\
    interface eth0.${NUM} \\
    use_vmac vrrp${NUM}.1 \\
    virtual_router_id 1 \\
    @high priority 130 \\
    @low priority 120 \\
    advert_int 1 \\
    virtual_ipaddress { \\
        10.0.${NUM}.254/24 \\
    } \\
    track_script { \\
        offset_instance_${NUM} \\
    } \\
}

$NUM=0
$INSTANCE

$NUM=1
$INSTANCE
";

#[test]
fn man_multiline_definition() {
    let (lines, d) = lex_with(MULTILINE, "high");
    assert!(d.is_empty(), "{d:?}");
    let one = |n: u32| {
        vec![
            format!("vrrp_instance VI_{n} {{"),
            format!("interface eth0.{n}"),
            format!("use_vmac vrrp{n}.1"),
            "virtual_router_id 1".to_string(),
            "priority 130".to_string(),
            "advert_int 1".to_string(),
            "virtual_ipaddress {".to_string(),
            format!("10.0.{n}.254/24"),
            "}".to_string(),
            "track_script {".to_string(),
            format!("offset_instance_{n}"),
            "}".to_string(),
            "}".to_string(),
        ]
    };
    let mut want = one(0);
    want.extend(one(1));
    assert_eq!(flat(&lines), want);
    // Lines of a multi-line definition are located at its use.
    assert!(lines[..13].iter().all(|l| l.loc().line == 18));
    assert!(lines[13..].iter().all(|l| l.loc().line == 21));
    let (low, _) = lex_with(MULTILINE, "low");
    assert!(flat(&low).contains(&"priority 120".to_string()));
}

const NESTED_MULTILINE: &str = "\
$RS= \\
real_server 192.168.${VS_NUM}.${RS_NUM} 80 { \\
    weight 1 \\
    MISC_CHECK { \\
        misc_path \"${_PWD}/scripts/vs.sh RS_misc.${INST}.${VS_NUM}.${RS_NUM}.0\" \\
    } \\
}

$VS= \\
virtual_server 10.0.${VS_NUM}.4 80 { \\
    quorum 2 \\
    $RS_NUM=1 \\
    $RS \\
    $RS_NUM=2 \\
    $RS \\
    $RS_NUM=3 \\
    $RS \\
}

$VS_NUM=0
$ALPHA=alpha
$VS

$VS_NUM=1
$ALPHA=
$VS
";

#[test]
fn man_nested_multiline_definitions() {
    let (lines, d) = lex_with(NESTED_MULTILINE, "vm");
    assert!(d.is_empty(), "{d:?}");
    let f = flat(&lines);
    let vs: Vec<&String> = f
        .iter()
        .filter(|l| l.starts_with("virtual_server"))
        .collect();
    assert_eq!(
        vs,
        [
            "virtual_server 10.0.0.4 80 {",
            "virtual_server 10.0.1.4 80 {"
        ]
    );
    let rs: Vec<&String> = f.iter().filter(|l| l.starts_with("real_server")).collect();
    assert_eq!(
        rs,
        [
            "real_server 192.168.0.1 80 {",
            "real_server 192.168.0.2 80 {",
            "real_server 192.168.0.3 80 {",
            "real_server 192.168.1.1 80 {",
            "real_server 192.168.1.2 80 {",
            "real_server 192.168.1.3 80 {",
        ]
    );
    // Structure of one virtual server: its 3 real servers are inside it.
    assert_eq!(f[0], "virtual_server 10.0.0.4 80 {");
    assert_eq!(f[1], "quorum 2");
    assert_eq!(f[2], "real_server 192.168.0.1 80 {");
    let pwd = std::fs::canonicalize(".").unwrap().display().to_string();
    assert!(
        f[5].contains(&format!("{pwd}/scripts/vs.sh RS_misc.${{INST}}.0.1.0")),
        "{}",
        f[5]
    );
    let open = f.iter().filter(|l| l.ends_with('{')).count();
    let close = f.iter().filter(|l| *l == "}").count();
    assert_eq!(open, close);
}

// --- "Sequence blocks" and "List blocks" ---------------------------------------------------

#[test]
fn man_seq() {
    let lines = lex("~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n");
    assert_eq!(
        flat(&lines),
        [
            "ip_address 10.0.0.1",
            "ip_address 10.0.1.1",
            "ip_address 10.0.2.1",
            "ip_address 10.0.3.1"
        ]
    );
    assert!(lines.iter().all(|l| l.loc().line == 1));
    assert_eq!(lines[0].loc().col, 20);
    let want = [
        "ip_address fe80::20:90:1",
        "ip_address fe80::20:a0:1",
        "ip_address fe80::20:b0:1",
        "ip_address fe80::20:c0:1",
    ];
    assert_eq!(
        flat(&lex(
            "~SEQx(SUBNET, 144, 16, 192) ip_address fe80::20:${SUBNET}:1\n"
        )),
        want
    );
    assert_eq!(
        flat(&lex(
            "~SEQx(SUBNET, 0x90, 0x10, 0xc0) ip_address fe80::20:${SUBNET}:1\n"
        )),
        want
    );
}

#[test]
fn man_seq_two_on_a_line() {
    let lines = lex("virtual_ipaddress {\n    ~SEQx(AD2, 0x90, 0x10, 0xc0) ~SEQx(AD1, 0x12, -1, 0x0c) fe81::10:${AD2}:${AD1}\n}\n");
    let f = flat(&lines);
    assert_eq!(f.len(), 2 + 4 * 7);
    assert_eq!(f[1], "fe81::10:90:12");
    assert_eq!(f[7], "fe81::10:90:c");
    assert_eq!(f[8], "fe81::10:a0:12");
    assert_eq!(f[28], "fe81::10:c0:c");
}

#[test]
fn man_lst() {
    let f = flat(&lex(
        "~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}\n",
    ));
    assert_eq!(
        f,
        [
            "192.168.10.1",
            "192.168.20.4",
            "192.168.5.6",
            "192.168.12.8"
        ]
    );
    let f = flat(&lex(
        "~LST(IP, 1, 2, 3, 4) ~LST(IP1, 5,6,7) 192.169.${IP}.${IP1}\n",
    ));
    let want: Vec<String> = (1..=4)
        .flat_map(|a| (5..=7).map(move |b| format!("192.169.{a}.{b}")))
        .collect();
    assert_eq!(f, want);
    let f = flat(&lex(
        "~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) ~SEQ(IP2,168,2,172) 192.${IP2}.${IP}.${IP1}\n",
    ));
    let want: Vec<String> = [(10, 1), (20, 4), (5, 6), (12, 8)]
        .iter()
        .flat_map(|(a, b)| (0..3).map(move |k| format!("192.{}.{a}.{b}", 168 + 2 * k)))
        .collect();
    assert_eq!(f, want);
}

fn vi4(id_end: u32) -> String {
    format!(
        "$VI4= \\
track_file offset_instance_4.${{IF}}.${{NUM}}.${{ID}} {{ \\
    file \"${{_PWD}}/679/track_files/4.${{IF}}.${{NUM}}.${{ID}}\" \\
    weight -100 \\
}} \\
vrrp_instance vrrp4.${{IF}}.${{NUM}}.${{ID}} {{ \\
    interface bond${{IF}}.${{NUM}} \\
    use_vmac vrrp4.${{IF}}.${{NUM}}.${{ID}} \\
    virtual_router_id ${{ID}} \\
    priority 130 \\
    virtual_ipaddress {{ \\
        10.${{IF}}.${{NUM}}.${{ID}}/24 \\
    }} \\
    track_file {{ \\
        offset_instance_4.${{IF}}.${{NUM}}.${{ID}} \\
    }} \\
}}

~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,{id_end}) $VI4
"
    )
}

#[test]
fn man_seq_with_multiline_definition_small() {
    let f = flat(&lex(&vi4(2)));
    let inst: Vec<&String> = f
        .iter()
        .filter(|l| l.starts_with("vrrp_instance"))
        .collect();
    assert_eq!(inst.len(), 8 * 32 * 2);
    assert_eq!(inst[0], "vrrp_instance vrrp4.0.0.1 {");
    assert_eq!(inst[1], "vrrp_instance vrrp4.0.0.2 {");
    assert_eq!(inst[2], "vrrp_instance vrrp4.0.1.1 {");
    assert_eq!(
        inst.last().unwrap().as_str(),
        "vrrp_instance vrrp4.7.31.2 {"
    );
    assert!(f.contains(&"virtual_router_id 2".to_string()));
}

#[test]
fn man_seq_65024_instances() {
    let start = std::time::Instant::now();
    let lines = lex(&vi4(254));
    let n = lines
        .iter()
        .filter(|l| l.keyword() == "vrrp_instance")
        .count();
    assert_eq!(n, 65024);
    let last = lines
        .iter()
        .rev()
        .find(|l| l.keyword() == "vrrp_instance")
        .unwrap();
    assert_eq!(last.tokens[1].text, "vrrp4.7.31.254");
    eprintln!("65,024 generated instances: {:?}", start.elapsed());
}

#[test]
fn definition_starting_a_generator() {
    let f = flat(&lex("$VIs=vi ${ID}\n$BLOCK= ~SEQ(ID,1,3) $VIs\n$BLOCK\n"));
    assert_eq!(f, ["vi 1", "vi 2", "vi 3"]);
}

#[test]
fn generator_parameters_can_be_definitions() {
    let f = flat(&lex("$S=2\n$E=4\n~SEQ(RS,$S,$E) rs${RS}\n"));
    assert_eq!(f, ["rs2", "rs3", "rs4"]);
}

#[test]
fn bad_generators_are_reported() {
    let (lines, d) = lex_with("~SEQ(A, 1, 0, 3) x\n~LST(A 1) y\n~SEQ A\nz\n", "vm");
    assert_eq!(flat(&lines), ["z"]);
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "Invalid ~SEQ values '~SEQ(A, 1, 0, 3) x'",
            "Invalid ~SEQ specification '~SEQ(A, 1, 0, 3) x'",
            "Invalid ~LST specification '~LST(A 1) y'",
            "Invalid ~SEQ specification '~SEQ A'",
        ]
    );
    assert!(d.iter().all(|d| d.class == ConfigClass::General));
    assert_eq!(d[2].loc.unwrap().line, 2);
}

#[test]
fn other_tilde_lines_are_left_alone() {
    assert_eq!(flat(&lex("$X=1\n~foo $X\n")), ["~foo $X"]);
}

// --- self-reference and limits ---------------------------------------------------------------

#[test]
fn self_referential_definitions_are_errors_not_hangs() {
    for def in ["$IF=$IF", "$IF=${IF}"] {
        let text = format!("{def}\nvrrp_instance V {{\n  interface $IF\n  track_interface {{\n    ${{IF}}\n  }}\n}}\n");
        let (lines, d) = lex_with(&text, "vm");
        assert!(lines.len() >= 7, "{def}");
        let errs: Vec<&Diagnostic> = d.iter().filter(|d| d.severity == Severity::Error).collect();
        assert_eq!(errs.len(), 1, "{def}: {d:?}");
        assert_eq!(errs[0].loc.unwrap().line, 3);
        assert_eq!(errs[0].loc.unwrap().col, 13);
        assert_eq!(errs[0].class, ConfigClass::General);
    }
    // A definition that grows stops at keepalived's line length, as in keepalived.
    let (_, d) = lex_with("$IF=x${IF}\nk $IF\n", "vm");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].class, ConfigClass::Ok);
    assert!(d[0].message.contains("would exceed maximum line length"));
    // Mutual recursion too.
    let (_, d) = lex_with("$A=${B}\n$B=${A}\nk $A\n", "vm");
    assert_eq!(
        d.iter().filter(|d| d.severity == Severity::Error).count(),
        1
    );
}

#[test]
fn huge_sequences_are_bounded() {
    let mut sm = SourceMap::new();
    let mut d = Vec::new();
    let opts = PreprocessOptions {
        limits: Limits {
            max_lines: 10_000,
            max_bytes: 1 << 20,
        },
        ..Default::default()
    };
    let lines = leak(lex_str(
        Path::new("t.conf"),
        "~SEQ(A, 0, 9223372036854775806) x${A}\n~SEQ(B, 1, 100000000000) \n".to_string(),
        &opts,
        &mut sm,
        &mut d,
    ));
    assert!(lines.len() < 10_000);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("expands to more than"));
    // Even with the default limits an empty repeated line cannot spin for long.
    let start = std::time::Instant::now();
    let (_, d) = lex_with("~SEQ(B, 1, 100000000000)\n", "vm");
    assert_eq!(d.len(), 1, "{d:?}");
    eprintln!(
        "default line limit of empty generated lines: {:?}",
        start.elapsed()
    );
}

#[test]
fn recursive_multiline_is_bounded() {
    let mut sm = SourceMap::new();
    let mut d = Vec::new();
    let opts = PreprocessOptions {
        limits: Limits {
            max_lines: 50_000,
            max_bytes: 1 << 22,
        },
        ..Default::default()
    };
    let text = "$M= \\\na \\\n$M \\\nb\n$M\n".to_string();
    let lines = leak(lex_str(Path::new("t.conf"), text, &opts, &mut sm, &mut d));
    // The inner use is refused at once: it would repeat the same lines for ever.
    assert_eq!(flat(&lines), ["a", "$M", "b"]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("'$M' does not end"), "{d:?}");
    assert_eq!(d[0].loc.map(|l| (l.line, l.col)), Some((5, 1)));
}

#[test]
fn multiline_reentered_through_others_or_generators_is_one_error() {
    // Through another definition, and inside a ~SEQ repeated by the definition itself: with the
    // default limits each used to run to 2,000,000 lines.
    for text in [
        "$A=a \\\n$B\n$B=b \\\n$A\nx $A\nafter\n",
        "$L= \\\nl \\\n~SEQ(i,1,3) $L\n~SEQ(n,1,4) $L\nafter\n",
    ] {
        let start = std::time::Instant::now();
        let (lines, d) = lex_with(text, "vm");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(1),
            "{text}"
        );
        assert!(lines.len() < 100, "{text}: {} lines", lines.len());
        assert_eq!(flat(&lines).last().map(String::as_str), Some("after"));
        let errors: Vec<_> = d.iter().filter(|d| d.severity == Severity::Error).collect();
        assert_eq!(errors.len(), 1, "{text}: {d:?}");
        assert!(errors[0].message.contains("does not end"));
    }
}

#[test]
fn multiline_redefined_inside_its_expansion_is_not_a_loop() {
    // The inner use is of the new definition, which ends.
    let (lines, d) = lex_with("$X=one \\\n$X=two\\\n$X\n$X\n", "vm");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(flat(&lines), ["one", "two"]);
    // The same definition used on consecutive lines, and nested in another: no loop either.
    let (lines, d) = lex_with("$I=i1 \\\ni2\n$O=o1 \\\n$I\n$O\n$O\n$I\n", "vm");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        flat(&lines),
        ["o1", "i1", "i2", "o1", "i1", "i2", "i1", "i2"]
    );
}

// --- includes ---------------------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "kx-lexer-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(path: &Path, opts: &PreprocessOptions) -> (Vec<Line<'static>>, Vec<Diagnostic>, SourceMap) {
    let mut sm = SourceMap::new();
    let mut d = Vec::new();
    let lines = leak(read_config(path, opts, &mut sm, &mut d));
    (lines, d, sm)
}

#[test]
fn includes_are_relative_to_the_including_file() {
    let t = TempDir::new("rel");
    let main = t.write(
        "main.conf",
        "top1\ninclude sub/a.conf\ninclude conf.d/*.conf\ninclude {x,y}.conf\ntop2\n",
    );
    t.write("sub/a.conf", "a1\ninclude b.conf\na2 ${_PWD}\n");
    t.write("sub/b.conf", "b1\n");
    t.write("conf.d/2.conf", "d2\n");
    t.write("conf.d/1.conf", "d1 {\n");
    t.write("conf.d/.hidden.conf", "hidden\n");
    t.write("x.conf", "x\n");
    t.write("y.conf", "}\n");
    let (lines, d, sm) = read(&main, &PreprocessOptions::default());
    assert!(d.is_empty(), "{d:?}");
    let sub = std::fs::canonicalize(t.0.join("sub")).unwrap();
    assert_eq!(
        flat(&lines),
        [
            "top1".to_string(),
            "a1".into(),
            "b1".into(),
            format!("a2 {}", sub.display()),
            "d1 {".into(),
            "d2".into(),
            "x".into(),
            "}".into(),
            "top2".into()
        ]
    );
    // Every line knows its file.
    let b1 = &lines[2];
    assert!(sm.path(b1.loc().file).ends_with("sub/b.conf"));
    assert_eq!(b1.loc().line, 1);
    assert_eq!(lines[8].loc().line, 5);
    assert!(sm.path(lines[8].loc().file).ends_with("main.conf"));
}

#[test]
fn include_after_substitution_and_conditions() {
    let t = TempDir::new("subst");
    let main = t.write(
        "main.conf",
        "$F=inc.conf\ninclude $F\n@vm include inc.conf\n@other include inc.conf\ninclude ${_PWD}/inc.conf\n",
    );
    t.write("inc.conf", "i\n");
    let opts = PreprocessOptions {
        config_id: "vm".into(),
        ..Default::default()
    };
    let (lines, d, _) = read(&main, &opts);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(flat(&lines), ["i", "i", "i"]);
}

#[test]
fn missing_includes_follow_include_checks() {
    let t = TempDir::new("missing");
    t.write("empty/keep", "");
    let main = t.write(
        "main.conf",
        "include nofile.conf\ninclude nodir/*.conf\ninclude empty/*.conf\nincludem nofile.conf\nincludew empty/*.conf\ninclude {main,nope}.conf.x\nincludeb {main,nope}.conf\nincluder nofile.conf\nk\n",
    );
    let (lines, d, _) = read(&main, &PreprocessOptions::default());
    let got: Vec<(String, ConfigClass, u32)> = d
        .iter()
        .map(|d| (d.message.clone(), d.class, d.loc.unwrap().line))
        .collect();
    assert_eq!(
        got,
        [
            (
                "Config files missing 'nofile.conf'.".to_string(),
                ConfigClass::Ok,
                1
            ),
            (
                "Config files missing 'nodir/*.conf'.".into(),
                ConfigClass::Ok,
                2
            ),
            (
                "Config files missing 'nofile.conf'.".into(),
                ConfigClass::FileNotFound,
                4
            ),
            (
                "No config files matched 'empty/*.conf'.".into(),
                ConfigClass::FileNotFound,
                5
            ),
            (
                "Config files missing '{main,nope}.conf.x'.".into(),
                ConfigClass::Ok,
                6
            ),
            (
                "Some config files missing: \"{main,nope}.conf\".".into(),
                ConfigClass::FileNotFound,
                7
            ),
            (
                "Config files missing 'nofile.conf'.".into(),
                ConfigClass::Ok,
                8
            ),
        ]
    );
    assert_eq!(flat(&lines), ["k"]);
    // With -e every include is checked.
    let opts = PreprocessOptions {
        include_check_all: true,
        ..Default::default()
    };
    let (_, d, _) = read(&main, &opts);
    assert!(d
        .iter()
        .take(2)
        .all(|d| d.class == ConfigClass::FileNotFound));
}

#[test]
fn include_check_keyword_changes_later_includes() {
    let t = TempDir::new("check");
    let main = t.write(
        "main.conf",
        "include a.conf\nglobal_defs {\n include_check match\n}\ninclude b.conf\n",
    );
    let (lines, d, _) = read(&main, &PreprocessOptions::default());
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].class, ConfigClass::Ok);
    assert_eq!(d[1].class, ConfigClass::FileNotFound);
    // The keyword itself still reaches the parser.
    assert_eq!(flat(&lines)[1], "include_check match");
}

#[test]
fn include_loops_are_reported_once_and_skipped() {
    let t = TempDir::new("loop");
    let main = t.write("main.conf", "m\ninclude main.conf\ninclude a.conf\n");
    t.write("a.conf", "a\ninclude main.conf\n");
    let (lines, d, _) = read(&main, &PreprocessOptions::default());
    assert_eq!(flat(&lines), ["m", "a"]);
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d.iter().all(|d| d.message.starts_with("include loop")));
    assert_eq!(d[1].loc.unwrap().line, 2);
}

#[test]
fn directories_and_executables_are_skipped() {
    let t = TempDir::new("kinds");
    t.write("d/x/keep", "");
    let exe = t.write("d/run.conf", "exe\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.write("d/ok.conf", "ok\n");
    let main = t.write("main.conf", "include d/*\nincluder d/*\n");
    let (lines, d, _) = read(&main, &PreprocessOptions::default());
    assert_eq!(flat(&lines), ["ok", "ok"]);
    let msgs: Vec<(&str, ConfigClass)> = d.iter().map(|d| (d.message.as_str(), d.class)).collect();
    assert_eq!(msgs.len(), 4);
    assert!(msgs[0].0.contains("not a regular non-executable file"));
    assert_eq!(msgs[0].1, ConfigClass::Ok);
    assert!(msgs[1].0.contains("is a directory"));
    assert_eq!(msgs[3].1, ConfigClass::FileNotFound);
}

#[test]
fn missing_main_file_is_file_not_found() {
    let (lines, d, _) = read(
        Path::new("/nonexistent/k.conf"),
        &PreprocessOptions::default(),
    );
    assert!(lines.is_empty());
    assert_eq!(d[0].class, ConfigClass::FileNotFound);
}

#[test]
fn ten_thousand_instances_lex_fast() {
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "vrrp_instance VI_{i} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {}\n    priority 100\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        auth_pass secret\n    }}\n    virtual_ipaddress {{\n        10.{}.{}.1/24 dev eth0\n    }}\n}}\n",
            i % 255 + 1,
            i / 256,
            i % 256
        ));
    }
    let start = std::time::Instant::now();
    let lines = lex(&text);
    let took = start.elapsed();
    assert_eq!(lines.len(), 10_000 * 14);
    eprintln!("10,000 instances ({} bytes): {took:?}", text.len());
}

// --- property tests ---------------------------------------------------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;

    fn small_limits() -> PreprocessOptions {
        PreprocessOptions {
            config_id: "vm".into(),
            random_seed: Some(3),
            limits: Limits {
                max_lines: 2_000,
                max_bytes: 1 << 18,
            },
            ..Default::default()
        }
    }

    fn check(text: String) {
        let mut sm = SourceMap::new();
        let mut d = Vec::new();
        let lines = leak(lex_str(
            Path::new("/nonexistent/p.conf"),
            text,
            &small_limits(),
            &mut sm,
            &mut d,
        ));
        for l in &lines {
            assert!(!l.tokens.is_empty());
            for (i, t) in l.tokens.iter().enumerate() {
                if t.is_close() {
                    assert_eq!(l.tokens.len(), 1, "'}}' not alone: {l:?}");
                }
                if t.is_open() {
                    assert_eq!(i + 1, l.tokens.len(), "'{{' not last: {l:?}");
                }
                assert!(sm.get(t.loc.file).is_some());
            }
        }
    }

    /// Pieces that exercise every feature, to be glued together at random.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("$A=${A}".to_string()),
            Just("$B=$A $B".to_string()),
            Just("$M= \\".to_string()),
            Just("$M".to_string()),
            Just("~SEQ(I, 1, 99999999999) x${I}".to_string()),
            Just("~SEQ(J,".to_string()),
            Just("~LST({A,B},{1,2},{3}) $M".to_string()),
            Just("~LST(".to_string()),
            Just("include /nonexistent/*.conf".to_string()),
            Just("include {a,{b,c}}{d,e}".to_string()),
            Just("includea nothing".to_string()),
            Just("include_check +bogus".to_string()),
            Just("@vm x".to_string()),
            Just("@^vm y".to_string()),
            Just("${_RANDOM 5 1}".to_string()),
            Just("${_RANDOM 99999999999999999999999 1}".to_string()),
            Just("${_HASH}".to_string()),
            Just("\"".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("\\".to_string()),
            Just("\\#".to_string()),
            Just("${".to_string()),
            Just("$".to_string()),
            "[ -~]{0,12}",
            "\\PC{0,6}",
        ]
    }

    /// The short way plain lines take gives what the long way gives: the same lines, words,
    /// locations and diagnostics.
    fn same_both_ways(text: &str) {
        let lex = |long: bool| {
            let (mut sm, mut d) = (SourceMap::new(), Vec::new());
            let path = Path::new("/nonexistent/p.conf");
            LONG_WAY.with(|w| w.set(long));
            let lexed = lex_str(path, text.to_string(), &small_limits(), &mut sm, &mut d);
            LONG_WAY.with(|w| w.set(false));
            (lexed, d)
        };
        assert_eq!(lex(false), lex(true), "{text:?}");
    }

    /// Lines a real configuration is made of, plain and not, with odd blanks around them.
    fn config_line() -> impl Strategy<Value = String> {
        let body = prop_oneof![
            "[a-z_]{1,12}( [a-zA-Z0-9_./:-]{1,10}){0,3}",
            "[a-z_]{1,12}( [a-z0-9]{1,6}){0,2} ?\\{",
            Just("}".to_string()),
            Just("{".to_string()),
            Just("".to_string()),
            "[ -~]{0,16}",
            piece(),
        ];
        ("[ \t]{0,3}", body, "[ \t\r]{0,2}").prop_map(|(a, b, c)| format!("{a}{b}{c}"))
    }

    #[test]
    fn fast_and_slow_agree_on_examples() {
        for text in [
            "a b {\n  c d\n}\n",
            "  vrrp_instance VI_1{\r\n\tstate MASTER \t\n }\n\n\t\n",
            "{\n}\n{ \n  } \n",
            "a\n$X=1\nb $X {\nc\n}",
            "x\n~SEQ(i, 2) y ${i}\nz {\n}",
            "a # c\nb\n@vm c {\nd }\n",
        ] {
            same_both_ways(text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn fast_and_slow_agree(lines in proptest::collection::vec(config_line(), 1..40)) {
            same_both_ways(&lines.join("\n"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,300}") {
            check(s);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            check(String::from_utf8_lossy(&b).into_owned());
        }

        #[test]
        fn never_panics_on_feature_soup(
            lines in proptest::collection::vec(proptest::collection::vec(piece(), 1..5), 1..25)
        ) {
            let text = lines.iter().map(|l| l.join(" ")).collect::<Vec<_>>().join("\n");
            check(text);
        }

        #[test]
        fn deep_nesting_terminates(depth in 1usize..400) {
            // ${A1} -> ${A2} -> ... and a deep chain of nested braces.
            let mut text = String::new();
            for i in 0..depth {
                text.push_str(&format!("$A{i}=${{A{}}}\n", i + 1));
            }
            text.push_str(&format!("$A{depth}=${{A0}}\nk ${{A0}}\n"));
            text.push_str(&"${".repeat(depth));
            text.push('\n');
            check(text);
        }
    }
}

#[test]
fn oversized_files_are_refused() {
    let t = TempDir::new("big");
    t.write("big.conf", &"x\n".repeat(100));
    let main = t.write("main.conf", "include big.conf\nk\n");
    let opts = PreprocessOptions {
        limits: Limits {
            max_lines: 1000,
            max_bytes: 100,
        },
        ..Default::default()
    };
    let (lines, d, _) = read(&main, &opts);
    assert_eq!(flat(&lines), ["k"]);
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message
            .contains("open problem (larger than 100 bytes)"),
        "{}",
        d[0].message
    );
}

/// The in-place path the parser takes gives the very tokens and lines the copying one does,
/// and its lists keep their memory only while the element sizes match.
#[test]
fn parts_convert_in_place_like_the_copying_accessors() {
    assert_eq!(std::mem::size_of::<Word>(), std::mem::size_of::<Token>());
    assert_eq!(std::mem::size_of::<LineSpan>(), std::mem::size_of::<Line>());
    let text = "a b {\n c \"d e\" }\n$X=1\nf $X\n";
    let lex = || {
        lex_str(
            Path::new("t.conf"),
            text.to_string(),
            &PreprocessOptions::default(),
            &mut SourceMap::new(),
            &mut Vec::new(),
        )
    };
    let copied = lex();
    let copied_tokens = copied.tokens();
    let expected = copied.lines(&copied_tokens);
    let (text, spans) = lex().into_parts();
    let words_at = spans.words.as_ptr() as usize;
    let (tokens, spans) = spans.tokens(&text);
    assert_eq!(
        tokens.as_ptr() as usize,
        words_at,
        "tokens reuse the word list"
    );
    let lines = spans.lines(&text, &tokens);
    assert_eq!(lines, expected);
}

/// Every configuration of the corpus (`../shared/corpus`, beside the repository; skipped
/// without it) lexes to the same lines, words, locations and diagnostics whether plain lines
/// take the short way or not.
#[test]
fn corpus_lexes_the_same_both_ways() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let Ok(list) = std::fs::read_to_string(dir.join("verdicts.tsv")) else {
        eprintln!("no corpus at {}: skipped", dir.display());
        return;
    };
    let opts = PreprocessOptions {
        config_id: "vm".into(),
        random_seed: Some(7),
        ..Default::default()
    };
    let mut compared = 0;
    for path in list.lines().skip(1).filter_map(|l| l.split('\t').next()) {
        let path = dir.join(path);
        let lex = |long: bool| {
            let (mut sm, mut d) = (SourceMap::new(), Vec::new());
            LONG_WAY.with(|w| w.set(long));
            let lexed = read_config(&path, &opts, &mut sm, &mut d);
            LONG_WAY.with(|w| w.set(false));
            (lexed, d)
        };
        let (short, long) = (lex(false), lex(true));
        assert!(short == long, "{} lexes differently", path.display());
        compared += 1;
    }
    assert!(compared > 900, "only {compared} configurations compared");
}
