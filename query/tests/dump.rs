//! flow-dump on the golden inputs: flowdumper blocks, -e expressions
//! (the flowdumper examples verbatim), and -s summaries.

use std::process::Command;

fn inputs() -> std::path::PathBuf {
    crate::util::golden("inputs")
}

fn dump(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-dump"))
        .args(args)
        .current_dir(inputs())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn count(args: &[&str]) -> usize {
    dump(args).lines().filter(|l| *l == "FLOW").count()
}

#[test]
fn first_block_of_small_is_the_flowdumper_layout() {
    let text = dump(&["small.ft"]);
    let first: Vec<&str> = text.lines().take(23).collect();
    assert_eq!(first[0], "FLOW");
    assert_eq!(first[2], "  router:         127.0.0.2");
    assert_eq!(first[3], "  src IP:         203.0.113.51");
    assert_eq!(first[12], "  start time:     Wed Jul  6 16:46:10 2005");
    assert_eq!(first[15], "  tos:            0x48");
    assert_eq!(
        first[20],
        "  TCP flags:      0x3f (FIN|PUSH|SYN|ACK|RST|URG)"
    );
    assert_eq!(text.lines().filter(|l| *l == "FLOW").count(), 296);
}

#[test]
fn flowdumper_expressions_run_verbatim() {
    let all = count(&["main"]);
    let other = count(&[
        "-e",
        "6 ne $protocol && 17 ne $protocol && 1 ne $protocol",
        "main",
    ]);
    let tcp = count(&["-e", "6 eq $protocol", "main"]);
    let udp = count(&["-e", "17 eq $protocol", "main"]);
    let icmp = count(&["-e", "1 eq $protocol", "main"]);
    assert_eq!(all, 5106);
    assert_eq!(other + tcp + udp + icmp, all);
    let tos = count(&["-e", "0x0 ne $tos", "small.ft"]);
    let tos0 = count(&["-e", "0x0 eq $tos", "small.ft"]);
    assert_eq!(tos + tos0, 296);
    assert!(tos > 0);
    let exp3 = count(&["-e", "\"127.0.0.3\" eq $exporterip", "main"]);
    let exp = |a: &str| count(&["-e", &format!("\"{a}\" eq $exporterip"), "main"]);
    assert_eq!(
        exp3 + exp("127.0.0.2") + exp("127.0.0.4") + exp("127.0.0.5"),
        all
    );
}

#[test]
fn summary_line_per_file() {
    let text = dump(&["-s", "small.ft", "main"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("small.ft: 296 flows, 3523906761 octets, 2558485 packets, "));
    assert!(lines[1].contains(": 2597 flows,"));
    assert!(lines[2].contains(": 2509 flows,"));
}
