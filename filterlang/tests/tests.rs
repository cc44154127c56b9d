//! Integration tests of filterlang: error messages for every broken config
//! of the golden corpus, semantics of every primitive type on hand-built
//! records, the O'Reilly examples, the golden filter.cfg end to end
//! against flow-tools' own outputs, inline expressions, and robustness
//! on garbage input.

mod batch;
mod date;
mod util;

use filterlang::{compile_expr, FilterConfig, FilterError, ParseOptions, Span, Symbols, Zone};
use formats::Record;
use util::*;

// ------------------------------------------------------------------ errors

/// Loads the golden `inputs/cfg/errors/<name>` as flow-nfilter would be
/// run on it, and returns the message printed:
/// the load error, or the error of picking the definition (`d`, or
/// `default` for no-default.cfg).
fn golden_error(name: &str) -> (String, Option<Span>) {
    let text = std::fs::read_to_string(error_cfg(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let file = format!("cfg/errors/{name}");
    let def = if name == "no-default.cfg" {
        "default"
    } else {
        "d"
    };
    let result = FilterConfig::parse_with(&text, &file, &[], &Symbols::builtin(), &utc())
        .and_then(|(cfg, _)| cfg.definition(def));
    match result {
        Ok(_) => panic!("{name}: expected an error"),
        Err(e) => (e.to_string(), e.span()),
    }
}

/// (file, expected line and column, expected message)
type ErrorCase = (&'static str, Option<(usize, usize)>, &'static str);

#[test]
fn every_golden_error_config_fails_with_a_positioned_message() {
    let cases: &[ErrorCase] = &[
        (
            "bad-date.cfg",
            Some((3, 13)),
            "cfg/errors/bad-date.cfg:3:13: cannot read the date \"not a date at all\" at its \
             character 1: unknown word \"not\"; expected a month, a weekday, a zone (UTC, CST, \
             ...), a unit (hours, days, ...), am/pm, or one of now, today, yesterday, tomorrow, \
             ago, last, this, next; dates look like \"2026-11-21 20:35:29\", \"November 21, 2026 \
             8:35pm CST\", \"11/21/26\", \"2026-11-21T20:35:29Z\", \"@1795293329\", \"2 hours \
             ago\", \"last monday\" or \"-1h\"",
        ),
        (
            "bad-default.cfg",
            Some((3, 11)),
            "cfg/errors/bad-default.cfg:3:11: unexpected \"maybe\" after default; expected permit \
             or deny",
        ),
        (
            "bad-keyword.cfg",
            Some((3, 3)),
            "cfg/errors/bad-keyword.cfg:3:3: unexpected \"permitt\" in filter-primitive \"p1\"; \
             expected one of type, permit, deny, default, mask (inside a filter-primitive), or \
             filter-primitive, filter-definition",
        ),
        (
            "counter-no-op.cfg",
            Some((3, 10)),
            "cfg/errors/counter-no-op.cfg:3:10: counter entry \"100\" needs an operator and a \
             value; expected \"permit <lt|gt|eq|ne|le|ge> <number>\", e.g. permit gt 100",
        ),
        (
            "dup-value-symbol.cfg",
            Some((3, 10)),
            "cfg/errors/dup-value-symbol.cfg:3:10: unknown ip-protocol name \"esp\" (\"esp\" is \
             listed in ip-prot.sym, but its number 50 is given another name later in the file, so \
             the name cannot be used); expected a number 0-255 or a name from ip-prot.sym \
             (built-in ip-prot.sym)",
        ),
        (
            "duplicate-definition.cfg",
            Some((4, 19)),
            "cfg/errors/duplicate-definition.cfg:4:19: filter-definition \"D\" is already defined \
             at line 1 (names are case-insensitive); expected a new name",
        ),
        (
            "duplicate-primitive.cfg",
            Some((5, 18)),
            "cfg/errors/duplicate-primitive.cfg:5:18: filter-primitive \"P1\" is already defined \
             at line 1 (names are case-insensitive); expected a new name",
        ),
        (
            "extra-token.cfg",
            Some((3, 13)),
            "cfg/errors/extra-token.cfg:3:13: unexpected \"26\" after \"permit 25\"; expected the \
             end of the line (lists are written without spaces, e.g. 22,23,25)",
        ),
        (
            "hyphen-symbol.cfg",
            Some((3, 10)),
            "cfg/errors/hyphen-symbol.cfg:3:10: unknown ip-port name \"ms\" (in \"ms-sql-s\": \"-\" \
             is the range operator, so names with a hyphen cannot be used; write the number \
             instead); expected a number 0-65535 or a name from tcp-port.sym (built-in \
             tcp-port.sym)",
        ),
        (
            "incompatible.cfg",
            Some((6, 21)),
            "cfg/errors/incompatible.cfg:6:21: match type \"ip-protocol\" cannot use \
             filter-primitive \"p1\" (line 1) of type ip-port; expected a primitive of type \
             ip-protocol (in filter-definition \"d\" at line 5)",
        ),
        (
            "mask-missing.cfg",
            Some((3, 10)),
            "cfg/errors/mask-missing.cfg:3:10: ip-address-mask entry \"10.0.0.0\" has no mask; \
             expected \"permit <address> <mask>\", e.g. permit 10.0.0.0 255.0.0.0",
        ),
        (
            "mask-unsupported.cfg",
            Some((3, 3)),
            "cfg/errors/mask-unsupported.cfg:3:3: mask is not supported for filter-primitive \
             \"p1\" of type ip-port; expected it only in ip-tos or ip-tcp-flags primitives",
        ),
        (
            "match-outside.cfg",
            Some((1, 1)),
            "cfg/errors/match-outside.cfg:1:1: unexpected \"match\" outside any filter-primitive \
             or filter-definition; expected filter-primitive or filter-definition",
        ),
        (
            "missing-name.cfg",
            Some((1, 1)),
            "cfg/errors/missing-name.cfg:1:1: filter-primitive without a name; expected \
             \"filter-primitive <name>\"",
        ),
        (
            "no-default.cfg",
            None,
            "cfg/errors/no-default.cfg: no filter-definition named \"default\"; expected one of: d",
        ),
        (
            "out-of-range.cfg",
            Some((3, 10)),
            "cfg/errors/out-of-range.cfg:3:10: value 300 out of range for ip-protocol; expected \
             0-255",
        ),
        (
            "permit-before-type.cfg",
            Some((2, 3)),
            "cfg/errors/permit-before-type.cfg:2:3: \"permit\" in filter-primitive \"p1\" comes \
             before its type; expected \"type <primitive-type>\" first",
        ),
        (
            "tag-on-v5.cfg",
            Some((6, 9)),
            "cfg/errors/tag-on-v5.cfg:6:9: filter-definition \"d\" matches on src-tag (src_tag), \
             a field NetFlow v5 flows do not have; expected only v5 fields (flow-tools: Filter \
             references a field not in flow)",
        ),
        (
            "type-outside.cfg",
            Some((1, 1)),
            "cfg/errors/type-outside.cfg:1:1: unexpected \"type\" outside any filter-primitive or \
             filter-definition; expected filter-primitive or filter-definition",
        ),
        (
            "type-twice.cfg",
            Some((3, 3)),
            "cfg/errors/type-twice.cfg:3:3: filter-primitive \"p1\" already has a type \
             (\"ip-port\" at line 2); expected only one type line",
        ),
        (
            "unknown-primitive.cfg",
            Some((7, 29)),
            "cfg/errors/unknown-primitive.cfg:7:29: filter-primitive \"nosuchprim\" is not \
             defined; expected the name of a filter-primitive in this file (in filter-definition \
             \"d\" at line 5)",
        ),
        (
            "unknown-symbol.cfg",
            Some((3, 10)),
            "cfg/errors/unknown-symbol.cfg:3:10: unknown ip-port name \"nosuchport\"; expected a \
             number 0-65535 or a name from tcp-port.sym (built-in tcp-port.sym)",
        ),
        (
            "unknown-type.cfg",
            Some((2, 8)),
            "cfg/errors/unknown-type.cfg:2:8: unknown primitive type \"ip-protcol\"; expected one \
             of as, counter, double, engine, ifindex, ip-address, ip-address-mask, \
             ip-address-prefix, ip-address-prefix-len, ip-port, ip-protocol, ip-tcp-flags, \
             ip-tos, rate, tag, tag-mask, time, time-date",
        ),
        (
            "unset-var.cfg",
            Some((3, 3)),
            "cfg/errors/unset-var.cfg:3:3: permit without a value in filter-primitive \"p1\" (did \
             a variable expand to nothing?); expected \"permit <value>\"",
        ),
        (
            "var-missing-brace.cfg",
            Some((1, 8)),
            "cfg/errors/var-missing-brace.cfg:1:8: unclosed variable \"@{oops\"; expected a \
             closing \"}\"",
        ),
    ];
    for (name, span, message) in cases {
        let (got, got_span) = golden_error(name);
        assert_eq!(got, *message, "{name}");
        assert_eq!(got_span, span.map(|(l, c)| Span::new(l, c)), "{name}");
    }
    // unknown-match lists every match type; check its start and its hint.
    let (got, span) = golden_error("unknown-match.cfg");
    assert!(
        got.starts_with(
            "cfg/errors/unknown-match.cfg:6:9: unknown match type \"ip-port\" (there is no \
             ip-port match: use src-ip-port or dst-ip-port, and `or` for either); expected one \
             of bps, destination-as,"
        ),
        "{got}"
    );
    assert!(
        got.ends_with("(in filter-definition \"d\" at line 5)"),
        "{got}"
    );
    assert_eq!(span, Some(Span::new(6, 9)));

    // Every file of the golden errors directory is covered.
    let mut covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    covered.extend(["unknown-match.cfg", "duplicate-entry.cfg"]);
    let mut seen = 0;
    for entry in std::fs::read_dir(golden("inputs/cfg/errors")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(covered.contains(&name.as_str()), "{name} has no test");
        seen += 1;
    }
    assert_eq!(seen, covered.len(), "a tested config is not in the corpus");
}

#[test]
fn duplicate_entry_only_warns_with_the_position() {
    let text = std::fs::read_to_string(error_cfg("duplicate-entry.cfg")).unwrap();
    let (cfg, warnings) = FilterConfig::parse_with(
        &text,
        "cfg/errors/duplicate-entry.cfg",
        &[],
        &Symbols::builtin(),
        &utc(),
    )
    .unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].to_string(),
        "cfg/errors/duplicate-entry.cfg:4:10: warning: ip-port value 25 was already set to \
         permit at line 3; the later setting (permit) wins"
    );
    let f = cfg.definition("d").unwrap();
    assert!(f.matches(&flow("1.1.1.1", 1000, "2.2.2.2", 25)));
    assert!(!f.matches(&flow("1.1.1.1", 1000, "2.2.2.2", 26)));
}

#[test]
fn more_error_messages() {
    let cases: &[(&str, &str)] = &[
        (
            "filter-primitive p\n type ip-address\n permit mail.example.com\n",
            "t.cfg:3:9: \"mail.example.com\" looks like a host name; host names are not resolved, \
             expected a dotted address such as 192.0.2.1",
        ),
        (
            "filter-primitive p\n type counter\n permit xx 5\n",
            "t.cfg:3:9: unknown operator \"xx\"; expected one of lt, gt, eq, ne, le, ge",
        ),
        (
            "filter-primitive p\n type ip-tos\n permit lowdelay\n",
            "t.cfg:3:9: \"lowdelay\" is not a number; ip-tos values have no names, expected a \
             number 0-255",
        ),
        (
            "filter-primitive p\n type rate\n permit 0\n",
            "t.cfg:3:9: rate \"0\" is 0 (flow-tools: Rate can not be 0); expected \"permit N\" with \
             N >= 1 to sample one flow in N",
        ),
        (
            "filter-primitive p\n type time\n permit ge 1:2:3:4\n",
            "t.cfg:3:12: unexpected text in time \"1:2:3:4\"; expected HH[:MM[:SS]]",
        ),
        (
            "filter-primitive p\n type time-date\n permit ge\n",
            "t.cfg:3:9: time-date entry \"ge\" has no date; expected \"permit \
             <lt|gt|eq|ne|le|ge> <date>\", e.g. permit ge 2005-07-06 16:56:00",
        ),
        (
            "filter-primitive p\n type time-date\n permit at 2005-07-06\n",
            "t.cfg:3:9: unknown operator \"at\"; expected one of lt, gt, eq, ne, le, ge",
        ),
        (
            "filter-definition d\n match src-ip-port\n",
            "t.cfg:2:8: match without a primitive name in filter-definition \"d\"; expected \
             \"match <match-type> <primitive>\"",
        ),
        (
            "filter-definition d\n or x\n",
            "t.cfg:2:5: unexpected \"x\" after \"or\"; expected the end of the line",
        ),
        (
            "filter-definition d\n permit 25\n",
            "t.cfg:2:2: unexpected \"permit\" in filter-definition \"d\"; expected one of match, \
             or, invert (inside a filter-definition), or filter-primitive, filter-definition",
        ),
        (
            "filter-primitive p\n type ip-port\n default\n",
            "t.cfg:3:2: default without a value; expected \"default permit\" or \"default deny\"",
        ),
        (
            "filter-primitive p\n type ip-port\nfilter-definition d\n match dst-ip-port p\n \
             match random-sample p\n",
            "t.cfg:5:22: match type \"random-sample\" cannot use filter-primitive \"p\" (line 1) \
             of type ip-port; expected a primitive of type rate (in filter-definition \"d\" at \
             line 3)",
        ),
        (
            "filter-primitive p\nfilter-definition d\n match dst-ip-port p\n",
            "t.cfg:3:20: filter-primitive \"p\" (line 1) has no type; expected a \"type \
             <primitive-type>\" line in it (in filter-definition \"d\" at line 2)",
        ),
        ("# @{A:x}\n", "t.cfg:1:3: bad variable \"@{A:x}\": expected \":-\" after the name \"A\" (the only form is @{NAME:-default})"),
    ];
    for (text, message) in cases {
        assert_eq!(load_error(text), *message, "{text}");
    }
}

#[test]
fn unused_definitions_are_still_checked() {
    let e = load_error(
        "filter-primitive p\n type ip-port\n permit 25\nfilter-definition good\n match \
         dst-ip-port p\nfilter-definition unused\n match dst-ip-port nothere\n",
    );
    assert!(e.contains("\"nothere\" is not defined"), "{e}");
}

#[test]
fn missing_definition_lists_the_known_ones() {
    let (cfg, _) = load("filter-definition a\nfilter-definition B\n").unwrap();
    let e = cfg.definition("c").unwrap_err();
    assert!(matches!(e, FilterError::NoSuchDefinition { .. }));
    assert_eq!(
        e.to_string(),
        "t.cfg: no filter-definition named \"c\"; expected one of: a, B"
    );
    assert!(cfg.definition("b").is_ok());
    assert_eq!(cfg.definition_names().collect::<Vec<_>>(), ["a", "B"]);
}

#[test]
fn v5_incompatible_fields_error_only_when_used() {
    for (ty, m) in [
        ("ip-tos", "ip-marked-tos"),
        ("counter\n permit gt 1", "flows"),
        ("counter\n permit gt 1", "extra-packets"),
        ("tag\n permit 0x10", "dst-tag"),
        ("tag-mask\n permit 0x10 0xff", "source-tag"),
        ("ip-address\n permit 10.0.0.1", "shortcut-ip-addr"),
    ] {
        let text = format!(
            "filter-primitive p\n type {ty}\nfilter-definition bad\n match {m} p\nfilter-definition ok\n"
        );
        let (cfg, _) = load(&text).unwrap_or_else(|e| panic!("{e}"));
        let e = cfg.definition("bad").unwrap_err();
        assert!(matches!(e, FilterError::FieldNotInV5 { .. }), "{m}: {e}");
        assert!(e.to_string().contains(&format!("matches on {m}")), "{e}");
        assert!(cfg.definition("ok").is_ok());
    }
}

// -------------------------------------------------------------- semantics

fn prim(ty_and_lines: &str, match_line: &str) -> filterlang::Filter {
    filter(
        &format!("filter-primitive p\n type {ty_and_lines}\nfilter-definition d\n match {match_line} p\n"),
        "d",
    )
}

fn rec_with(f: impl FnOnce(&mut Record)) -> Record {
    let mut r = flow("10.0.0.1", 1024, "10.0.0.2", 80);
    f(&mut r);
    r
}

#[test]
fn ip_protocol_names_ranges_bang_and_default() {
    let f = prim("ip-protocol\n permit tcp,udp", "ip-protocol");
    assert!(f.matches(&rec_with(|r| r.protocol = 6)));
    assert!(f.matches(&rec_with(|r| r.protocol = 17)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 1)));
    let f = prim("ip-protocol\n permit 1-6", "ip-protocol");
    assert!((1..=6).all(|p| f.matches(&rec_with(|r| r.protocol = p))));
    assert!(!f.matches(&rec_with(|r| r.protocol = 7)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 0)));
    // reversed range sets only its first value
    let f = prim("ip-protocol\n permit 17-6", "ip-protocol");
    assert!(f.matches(&rec_with(|r| r.protocol = 17)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 6)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 10)));
    // "!" is not negation: it gives the listed values the opposite mode
    let f = prim("ip-protocol\n permit !6", "ip-protocol");
    assert!((0..=255).all(|p| !f.matches(&rec_with(|r| r.protocol = p))));
    let f = prim("ip-protocol\n permit !6\n default permit", "ip-protocol");
    assert!(!f.matches(&rec_with(|r| r.protocol = 6)));
    assert!(f.matches(&rec_with(|r| r.protocol = 17)));
    let f = prim("ip-protocol\n deny 6,17,1\n default permit", "ip-protocol");
    assert!(!f.matches(&rec_with(|r| r.protocol = 17)));
    assert!(f.matches(&rec_with(|r| r.protocol = 47)));
    // hex and octal numbers
    let f = prim("ip-protocol\n permit 0x11,010", "ip-protocol");
    assert!(f.matches(&rec_with(|r| r.protocol = 17)));
    assert!(f.matches(&rec_with(|r| r.protocol = 8)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 10)));
}

#[test]
fn ip_port_on_source_and_destination() {
    let f = prim("ip-port\n permit http,https\n permit 8080", "dst-ip-port");
    assert!(f.matches(&rec_with(|r| r.dst_port = 80)));
    assert!(f.matches(&rec_with(|r| r.dst_port = 443)));
    assert!(f.matches(&rec_with(|r| r.dst_port = 8080)));
    assert!(!f.matches(&rec_with(|r| r.dst_port = 25)));
    let f = prim("ip-port\n permit 1024-65535", "ip-source-port");
    assert!(f.matches(&rec_with(|r| r.src_port = 65535)));
    assert!(!f.matches(&rec_with(|r| r.src_port = 1023)));
    // last setting wins
    let (cfg, warnings) = load(
        "filter-primitive p\n type ip-port\n permit 20-30\n deny 25\nfilter-definition d\n match \
         src-ip-port p\n",
    )
    .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let f = cfg.definition("d").unwrap();
    assert!(f.matches(&rec_with(|r| r.src_port = 24)));
    assert!(!f.matches(&rec_with(|r| r.src_port = 25)));
}

#[test]
fn as_prefix_len_ifindex_engine() {
    let f = prim("as\n permit 64501,64502\n permit 65000-65535", "source-as");
    assert!(f.matches(&rec_with(|r| r.src_as = 64502)));
    assert!(f.matches(&rec_with(|r| r.src_as = 65535)));
    assert!(!f.matches(&rec_with(|r| r.src_as = 64503)));
    let f = prim("as\n permit 3", "dst-as");
    assert!(f.matches(&rec_with(|r| r.dst_as = 3)));
    assert!(!f.matches(&rec_with(|r| r.src_as = 3)));

    let f = prim(
        "ip-address-prefix-len\n permit 0-22",
        "dst-ip-addr-prefix-len",
    );
    assert!(f.matches(&rec_with(|r| r.dst_mask = 22)));
    assert!(!f.matches(&rec_with(|r| r.dst_mask = 24)));
    let f = prim(
        "ip-address-prefix-len\n permit 24",
        "ip-source-address-prefix-len",
    );
    assert!(f.matches(&rec_with(|r| r.src_mask = 24)));
    assert!(
        load_error("filter-primitive p\n type ip-address-prefix-len\n permit 33\n")
            .contains("value 33 out of range for ip-address-prefix-len; expected 0-32")
    );

    let f = prim("ifindex\n permit 1,10\n permit 100", "input-interface");
    assert!(f.matches(&rec_with(|r| r.input_if = 10)));
    assert!(!f.matches(&rec_with(|r| r.input_if = 2)));
    let f = prim("ifindex\n permit 2", "dst-ifindex");
    assert!(f.matches(&rec_with(|r| r.output_if = 2)));
    assert!(!f.matches(&rec_with(|r| r.output_if = 3)));

    let f = prim("engine\n permit 5", "engine-id");
    assert!(f.matches(&rec_with(|r| r.engine_id = 5)));
    assert!(!f.matches(&rec_with(|r| r.engine_type = 5)));
    let f = prim("engine\n permit 5", "engine-type");
    assert!(f.matches(&rec_with(|r| r.engine_type = 5)));
    let (_, warnings) = load("filter-primitive p\n type engine\n permit 300\n").unwrap();
    assert!(
        warnings[0]
            .message
            .contains("engine value 300 can never match"),
        "{warnings:?}"
    );
}

#[test]
fn tos_and_tcp_flags_with_masks() {
    let f = prim("ip-tos\n mask 0xfc\n permit 0xb8", "ip-tos");
    assert!(f.matches(&rec_with(|r| r.tos = 0xb8)));
    assert!(f.matches(&rec_with(|r| r.tos = 0xbb)));
    assert!(!f.matches(&rec_with(|r| r.tos = 0xb4)));
    let f = prim("ip-tos\n permit 0x10", "ip-tos");
    assert!(f.matches(&rec_with(|r| r.tos = 0x10)));
    assert!(!f.matches(&rec_with(|r| r.tos = 0x11)));

    let f = prim("ip-tcp-flags\n mask 0x04\n permit 0x04", "ip-tcp-flags");
    assert!(f.matches(&rec_with(|r| r.tcp_flags = 0x14)));
    assert!(!f.matches(&rec_with(|r| r.tcp_flags = 0x13)));
    let f = prim("ip-tcp-flags\n permit 0x02", "ip-tcp-flags");
    assert!(f.matches(&rec_with(|r| r.tcp_flags = 0x02)));
    assert!(!f.matches(&rec_with(|r| r.tcp_flags = 0x12)));
}

#[test]
fn ip_address_exact_and_last_setting_wins() {
    let f = prim(
        "ip-address\n permit 192.0.2.10\n permit 192.0.2.11",
        "dst-ip-addr",
    );
    assert!(f.matches(&rec_with(|r| r.dst_addr = ip("192.0.2.10"))));
    assert!(f.matches(&rec_with(|r| r.dst_addr = ip("192.0.2.11"))));
    assert!(!f.matches(&rec_with(|r| r.dst_addr = ip("192.0.2.12"))));
    // many addresses (binary search path)
    let lines: String = (1..=50).map(|i| format!(" permit 10.1.0.{i}\n")).collect();
    let f = prim(
        &format!("ip-address\n{lines} deny 10.1.0.7\n default deny"),
        "ip-source-address",
    );
    assert!(f.matches(&rec_with(|r| r.src_addr = ip("10.1.0.50"))));
    assert!(!f.matches(&rec_with(|r| r.src_addr = ip("10.1.0.7"))));
    assert!(!f.matches(&rec_with(|r| r.src_addr = ip("10.1.0.51"))));
    // missing octets are zero
    let f = prim("ip-address\n permit 10.1", "exporter-ip-addr");
    assert!(f.matches(&rec_with(|r| r.exporter = ip("10.1.0.0"))));
    let f = prim(
        "ip-address\n deny 10.255.0.1\n default permit",
        "nexthop-ip-addr",
    );
    assert!(!f.matches(&rec_with(|r| r.next_hop = ip("10.255.0.1"))));
    assert!(f.matches(&rec_with(|r| r.next_hop = ip("10.255.0.2"))));
}

#[test]
fn ip_address_mask_is_first_match() {
    let deny_first = prim(
        "ip-address-mask\n deny 192.0.2.10 255.255.255.255\n permit 192.0.2.0 255.255.255.0",
        "dst-ip-addr",
    );
    let permit_first = prim(
        "ip-address-mask\n permit 192.0.2.0 255.255.255.0\n deny 192.0.2.10 255.255.255.255",
        "dst-ip-addr",
    );
    let mail = rec_with(|r| r.dst_addr = ip("192.0.2.10"));
    let other = rec_with(|r| r.dst_addr = ip("192.0.2.99"));
    assert!(!deny_first.matches(&mail));
    assert!(deny_first.matches(&other));
    assert!(permit_first.matches(&mail));
    assert!(permit_first.matches(&other));
    assert!(!permit_first.matches(&rec_with(|r| r.dst_addr = ip("192.0.3.1"))));
    let f = prim(
        "ip-address-mask\n permit 127.0.0.2 255.255.255.254",
        "ip-exporter-address",
    );
    assert!(f.matches(&rec_with(|r| r.exporter = ip("127.0.0.3"))));
    assert!(!f.matches(&rec_with(|r| r.exporter = ip("127.0.0.4"))));
}

#[test]
fn ip_address_prefix_is_longest_match_in_any_order() {
    let f = prim(
        "ip-address-prefix\n deny 192.0.2.10/32\n permit 192.0.2.0/24\n deny 192.0.2.11\n \
         permit 10\n deny 10.1.0.0/16\n permit 10.1.2.0/24",
        "dst-ip-addr",
    );
    let t = |a: &str| f.matches(&rec_with(|r| r.dst_addr = ip(a)));
    assert!(!t("192.0.2.10"));
    assert!(!t("192.0.2.11"));
    assert!(t("192.0.2.12"));
    assert!(t("192.0.2.0"));
    assert!(t("192.0.2.255"));
    assert!(!t("192.0.3.0"));
    assert!(t("10.0.0.1"));
    assert!(t("10.255.255.255"));
    assert!(!t("10.1.0.1"));
    assert!(t("10.1.2.3"));
    assert!(!t("10.1.3.3"));
    assert!(!t("11.0.0.0"));
    assert!(!t("0.0.0.0"));
    assert!(!t("255.255.255.255"));
    // default permit and a /0
    let f = prim(
        "ip-address-prefix\n deny 10.0.0.0/8\n default permit",
        "src-ip-addr",
    );
    assert!(!f.matches(&rec_with(|r| r.src_addr = ip("10.9.9.9"))));
    assert!(f.matches(&rec_with(|r| r.src_addr = ip("11.9.9.9"))));
    let f = prim(
        "ip-address-prefix\n permit 0.0.0.0/0\n deny 255.255.255.255/32",
        "src-ip-addr",
    );
    assert!(f.matches(&rec_with(|r| r.src_addr = 0)));
    assert!(!f.matches(&rec_with(|r| r.src_addr = u32::MAX)));
    assert!(f.matches(&rec_with(|r| r.src_addr = u32::MAX - 1)));
    // duplicate prefix: warning, first setting kept
    let (cfg, warnings) = load(
        "filter-primitive p\n type ip-address-prefix\n permit 10.0.0.0/8\n deny 10.0.0.0/8\n\
         filter-definition d\n match src-ip-addr p\n",
    )
    .unwrap();
    assert!(warnings[0]
        .message
        .contains("10.0.0.0/8 was already set to permit at line 3"));
    assert_eq!(warnings[0].span, Span::new(4, 7));
    assert!(cfg
        .definition("d")
        .unwrap()
        .matches(&rec_with(|r| r.src_addr = ip("10.0.0.1"))));
}

#[test]
fn ip_address_prefix_matches_a_naive_longest_prefix_search() {
    // pseudo-random prefixes, checked against a brute force search
    let mut x: u64 = 0x1234_5678;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut prefixes = Vec::new();
    let mut lines = String::new();
    for _ in 0..300 {
        let len = (next() % 33) as u8;
        let mask = if len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(len))
        };
        let addr = (next() as u32) & mask & 0xf0ff_ffff; // cluster them a bit
        let permit = next() % 2 == 0;
        if prefixes.iter().any(|&(a, l, _)| a == addr && l == len) {
            continue;
        }
        prefixes.push((addr, len, permit));
        lines.push_str(&format!(
            " {} {}/{len}\n",
            if permit { "permit" } else { "deny" },
            std::net::Ipv4Addr::from(addr)
        ));
    }
    let f = prim(&format!("ip-address-prefix\n{lines}"), "src-ip-addr");
    for _ in 0..20_000 {
        let a = (next() as u32) & 0xf0ff_ffff;
        let expected = prefixes
            .iter()
            .filter(|&&(p, l, _)| {
                let mask = if l == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(l))
                };
                a & mask == p
            })
            .max_by_key(|&&(_, l, _)| l)
            .is_some_and(|&(_, _, permit)| permit);
        assert_eq!(
            f.matches(&rec_with(|r| r.src_addr = a)),
            expected,
            "{}",
            std::net::Ipv4Addr::from(a)
        );
    }
}

#[test]
fn ip_address_prefix_with_a_crowded_block() {
    // 300 alternating /32s inside one /16: more intervals than the /16
    // index holds for a block
    let mut lines = String::from(" permit 10.1.0.0/16\n");
    for i in 0..300u32 {
        let mode = if i % 2 == 0 { "deny" } else { "permit" };
        lines.push_str(&format!(" {mode} 10.1.{}.{}/32\n", i / 200, (i % 200) + 1));
    }
    for k in 0..100u32 {
        lines.push_str(&format!(" permit 20.{k}.0.0/16\n"));
    }
    let f = prim(&format!("ip-address-prefix\n{lines}"), "src-ip-addr");
    let t = |a: &str| f.matches(&rec_with(|r| r.src_addr = ip(a)));
    assert!(!t("10.1.0.1"));
    assert!(t("10.1.0.2"));
    assert!(t("10.1.0.201"));
    assert!(!t("10.1.1.99"));
    assert!(t("10.1.1.100"));
    assert!(t("10.1.200.1"));
    assert!(!t("10.2.0.0"));
    assert!(t("20.99.1.1"));
    assert!(!t("20.100.1.1"));
}

#[test]
fn counters_are_first_match_lists() {
    let f = prim("counter\n permit gt 1000", "packets");
    assert!(f.matches(&rec_with(|r| r.packets = 1001)));
    assert!(!f.matches(&rec_with(|r| r.packets = 1000)));
    let f = prim("counter\n deny lt 100\n permit lt 1000", "octets");
    assert!(!f.matches(&rec_with(|r| r.octets = 99)));
    assert!(f.matches(&rec_with(|r| r.octets = 100)));
    assert!(f.matches(&rec_with(|r| r.octets = 999)));
    assert!(!f.matches(&rec_with(|r| r.octets = 1000)));
    let f = prim("counter\n permit ge 600000", "duration");
    assert!(f.matches(&rec_with(|r| {
        r.first_uptime_ms = 0;
        r.last_uptime_ms = 600_000;
    })));
    assert!(!f.matches(&rec_with(|r| {
        r.first_uptime_ms = 1;
        r.last_uptime_ms = 600_000;
    })));
    // durations are u32 differences, right across an uptime wrap
    assert!(f.matches(&rec_with(|r| {
        r.first_uptime_ms = u32::MAX - 100_000;
        r.last_uptime_ms = 500_000;
    })));
    for (op, v, yes, no) in [
        ("eq", 5, 5, 6),
        ("ne", 5, 6, 5),
        ("le", 5, 5, 6),
        ("ge", 5, 5, 4),
        ("lt", 5, 4, 5),
    ] {
        let f = prim(&format!("counter\n permit {op} {v}"), "packets");
        assert!(f.matches(&rec_with(|r| r.packets = yes)), "{op}");
        assert!(!f.matches(&rec_with(|r| r.packets = no)), "{op}");
    }
    // "counter" with start-time compares the start second
    let f = prim(&format!("counter\n permit ge {}", NOW - 60), "start-time");
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 2)));
}

#[test]
fn doubles_bps_and_pps() {
    // 4000 octets in 50 s = 640 bps, 10 packets in 50 s = 0.2 pps
    let r = flow("1.1.1.1", 1, "2.2.2.2", 2);
    assert!(prim("double\n permit gt 639.9", "bps").matches(&r));
    assert!(!prim("double\n permit gt 640.1", "bps").matches(&r));
    assert!(prim("double\n permit lt 0.5", "pps").matches(&r));
    assert!(!prim("double\n permit gt 0.5", "pps").matches(&r));
    // zero duration: rate 0
    let z = rec_with(|r| r.last_uptime_ms = r.first_uptime_ms);
    assert!(prim("double\n permit eq 0", "bps").matches(&z));
    assert!(prim("double\n permit eq 0", "pps").matches(&z));
}

#[test]
fn time_date_compares_whole_seconds_of_start_and_end() {
    // the flow starts at NOW-60 (16:54:08 UTC) and ends at NOW-10 (16:54:58)
    let r = flow("1.1.1.1", 1, "2.2.2.2", 2);
    let f = prim("time-date\n permit ge July 6, 2005 16:54:08", "start-time");
    assert!(f.matches(&r));
    let f = prim("time-date\n permit gt 2005-07-06 16:54:08", "start-time");
    assert!(!f.matches(&r));
    let f = prim("time-date\n permit lt 2005-07-06 16:54:59", "end-time");
    assert!(f.matches(&r));
    let f = prim("time-date\n permit lt 2005-07-06 16:54:58 UTC", "end-time");
    assert!(!f.matches(&r));
    // an explicit zone
    let f = prim(
        "time-date\n permit eq 2005-07-06 12:54:08 EDT",
        "start-time",
    );
    assert!(f.matches(&r));
    // the local zone applies to dates without one
    let ny = ParseOptions {
        now: Some(NOW),
        zone: Zone::Fixed(-4 * 3600),
    };
    let (cfg, _) = FilterConfig::parse_with(
        "filter-primitive p\n type time-date\n permit eq 2005-07-06 12:54:08\nfilter-definition \
         d\n match start-time p\n",
        "t.cfg",
        &[],
        &Symbols::builtin(),
        &ny,
    )
    .unwrap();
    assert!(cfg.definition("d").unwrap().matches(&r));
    // sub-second start: floor to the second
    let r2 = rec_with(|r| r.unix_nsecs = 999_000_000);
    let f = prim("time-date\n permit eq 2005-07-06 16:54:08", "start-time");
    assert!(f.matches(&r2));
}

#[test]
fn time_of_day_uses_the_flows_own_local_day() {
    let r = flow("1.1.1.1", 1, "2.2.2.2", 2); // starts 16:54:08 UTC
    assert!(prim("time\n permit ge 16:54", "start-time").matches(&r));
    assert!(!prim("time\n permit ge 16:55", "start-time").matches(&r));
    assert!(prim("time\n permit lt 17", "end-time").matches(&r));
    assert!(prim("time\n permit eq 16:54:08", "start-time").matches(&r));
    // first match wins, then the default
    let f = prim(
        "time\n deny lt 8\n permit lt 18\n default deny",
        "start-time",
    );
    assert!(f.matches(&r));
    // in New York the same instant is 12:54:08
    let ny = ParseOptions {
        now: Some(NOW),
        zone: Zone::Fixed(-4 * 3600),
    };
    let (cfg, _) = FilterConfig::parse_with(
        "filter-primitive p\n type time\n permit ge 16:56\nfilter-definition d\n match \
         start-time p\n",
        "t.cfg",
        &[],
        &Symbols::builtin(),
        &ny,
    )
    .unwrap();
    assert!(!cfg.definition("d").unwrap().matches(&r));
}

#[test]
fn random_sample_rate() {
    let f = prim("rate\n permit 4", "random-sample");
    f.set_seed(7);
    let r = flow("1.1.1.1", 1, "2.2.2.2", 2);
    let n = (0..40_000).filter(|_| f.matches(&r)).count();
    assert!((9_000..11_000).contains(&n), "{n}");
    let f = prim("rate\n deny 4", "random-sample");
    f.set_seed(7);
    let n = (0..40_000).filter(|_| f.matches(&r)).count();
    assert!((29_000..31_000).contains(&n), "{n}");
    let (_, w) = load("filter-primitive p\n type rate\n permit 2\n default permit\n").unwrap();
    assert!(w[0].message.contains("no default mode"), "{w:?}");
}

#[test]
fn definitions_or_groups_invert_and_empty() {
    let text = "filter-primitive tcp\n type ip-protocol\n permit 6\n\
                filter-primitive p25\n type ip-port\n permit 25\n\
                filter-definition both\n match ip-protocol tcp\n match dst-ip-port p25\n\
                filter-definition either\n match ip-protocol tcp\n or\n match dst-ip-port p25\n\
                filter-definition neither\n match ip-protocol tcp\n or\n match dst-ip-port p25\n invert\n\
                filter-definition empty\n\
                filter-definition everything\n invert\n\
                filter-definition leading_or\n or\n or\n match dst-ip-port p25\n";
    let (cfg, _) = load(text).unwrap();
    let tcp25 = flow("1.1.1.1", 1, "2.2.2.2", 25);
    let tcp80 = flow("1.1.1.1", 1, "2.2.2.2", 80);
    let udp25 = rec_with(|r| {
        r.protocol = 17;
        r.dst_port = 25;
    });
    let udp80 = rec_with(|r| r.protocol = 17);
    let check = |def: &str, expected: [bool; 4]| {
        let f = cfg.definition(def).unwrap();
        let got = [&tcp25, &tcp80, &udp25, &udp80].map(|r| f.matches(r));
        assert_eq!(got, expected, "{def}");
    };
    check("both", [true, false, false, false]);
    check("either", [true, true, true, false]);
    check("neither", [false, false, false, true]);
    check("empty", [false; 4]);
    check("everything", [true; 4]);
    check("leading_or", [true, false, true, false]);
    check("LEADING_OR", [true, false, true, false]);
}

#[test]
fn many_distinct_tests_and_shared_tests_evaluate_correctly() {
    // 70 primitives (more than the 64-bit result mask) plus a shared one
    let mut text = String::from("filter-primitive tcp\n type ip-protocol\n permit 6\n");
    for i in 0..70 {
        text.push_str(&format!(
            "filter-primitive p{i}\n type ip-port\n permit {}\n",
            1000 + i
        ));
    }
    text.push_str("filter-definition many\n");
    for i in 0..70 {
        text.push_str(&format!(
            " match ip-protocol tcp\n match dst-ip-port p{i}\n or\n"
        ));
    }
    let f = filter(&text, "many");
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 1000)));
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 1069)));
    assert!(!f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 1070)));
    assert!(!f.matches(&rec_with(|r| {
        r.protocol = 17;
        r.dst_port = 1000;
    })));
}

#[test]
fn expression_range_edges() {
    let r = rec_with(|r| r.packets = 0);
    assert!(!compile_expr("$pkts < 0").unwrap().matches(&r));
    assert!(compile_expr("$pkts <= 0").unwrap().matches(&r));
    assert!(compile_expr("$pkts >= 0").unwrap().matches(&r));
    assert!(!compile_expr("$pkts > 9223372036854775807")
        .unwrap()
        .matches(&r));
    assert!(compile_expr("$pkts < 9223372036854775807")
        .unwrap()
        .matches(&r));
    let big = rec_with(|r| r.packets = u32::MAX);
    assert!(compile_expr("$pkts > 4294967294 and $pkts == 0xffffffff")
        .unwrap()
        .matches(&big));
    assert!(compile_expr("!($pkts != 4294967295) || 1 > $pkts")
        .unwrap()
        .matches(&big));
    assert!(compile_expr("$srcport < $dstport")
        .unwrap()
        .matches(&flow("1.1.1.1", 1, "2.2.2.2", 2)));
}

#[test]
fn keywords_names_and_symbols_are_case_insensitive() {
    let f = filter(
        "Filter-Primitive Web\n TYPE Ip-Port\n PERMIT HTTP\n Default Deny\nFILTER-DEFINITION \
         Mixed\n MATCH DST-IP-PORT wEB\n",
        "mixed",
    );
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 80)));
}

#[test]
fn variables_expand_everywhere_with_defaults() {
    let text = golden_text("inputs/cfg/vars.cfg");
    let load_vars = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        FilterConfig::parse_with(&text, "vars.cfg", &vars, &Symbols::builtin(), &utc())
            .unwrap()
            .0
    };
    let smtp = flow("1.1.1.1", 1, "2.2.2.2", 25);
    let dns = rec_with(|r| {
        r.protocol = 17;
        r.dst_port = 53;
    });
    let cfg = load_vars(&[]);
    assert!(cfg.definition("d").unwrap().matches(&smtp));
    assert!(!cfg.definition("d").unwrap().matches(&dns));
    let cfg = load_vars(&[("PORT", "53")]);
    assert!(cfg.definition("d").unwrap().matches(&dns));
    let cfg = load_vars(&[("PROT", "udp")]);
    assert!(cfg.definition("d2").unwrap().matches(&dns));
    assert!(!cfg.definition("d2").unwrap().matches(&smtp));
    let cfg = load_vars(&[("PROT", "17"), ("DEF", "permit")]);
    assert!(cfg.definition("d2").unwrap().matches(&dns));
    assert!(cfg.definition("d2").unwrap().matches(&smtp));
}

// --------------------------------------------------------------- O'Reilly

#[test]
fn oreilly_article_filters() {
    let text = std::fs::read_to_string(fixture("filters/oreilly.cfg")).unwrap();
    let (cfg, warnings) =
        FilterConfig::parse_with(&text, "oreilly.cfg", &[], &Symbols::builtin(), &utc()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let names: Vec<&str> = cfg.definition_names().collect();
    assert_eq!(
        names,
        [
            "inboundmail",
            "outboundmail",
            "allmail",
            "redflags",
            "inboundmail_false",
            "hosting"
        ]
    );
    let inbound = flow("203.0.113.5", 40000, "198.18.7.25", 25);
    let outbound = flow("198.18.7.26", 40001, "192.0.2.77", 25);
    let to_web_server = flow("203.0.113.5", 40002, "198.18.7.80", 25);
    let web = flow("203.0.113.5", 40003, "198.18.7.80", 80);
    let udp_smtp = rec_with(|r| {
        r.protocol = 17;
        r.dst_port = 25;
        r.dst_addr = ip("198.18.7.25");
    });
    let xmas = rec_with(|r| r.tcp_flags = 0x29);
    let xmas_ece = rec_with(|r| r.tcp_flags = 0x69); // 0x40 is outside the mask
    let all = rec_with(|r| r.tcp_flags = 0x3f);
    let none = rec_with(|r| r.tcp_flags = 0);
    let records = [
        &inbound,
        &outbound,
        &to_web_server,
        &web,
        &udp_smtp,
        &xmas,
        &xmas_ece,
        &all,
        &none,
    ];
    let expect = |def: &str, expected: [bool; 9]| {
        let f = cfg.definition(def).unwrap();
        assert_eq!(records.map(|r| f.matches(r)), expected, "{def}");
    };
    expect(
        "inboundmail",
        [true, false, false, false, false, false, false, false, false],
    );
    expect(
        "outboundmail",
        [false, true, false, false, false, false, false, false, false],
    );
    expect(
        "allmail",
        [true, true, false, false, false, false, false, false, false],
    );
    expect(
        "redflags",
        [false, false, false, false, false, true, true, true, true],
    );
    expect(
        "inboundmail_false",
        [false, false, true, false, false, false, false, false, false],
    );
    expect(
        "hosting",
        [true, true, true, true, true, false, false, false, false],
    );
}

// ---------------------------------------------------------------- golden

fn golden_config() -> FilterConfig {
    let text = golden_text("inputs/cfg/filter.cfg");
    let (cfg, warnings) =
        FilterConfig::parse_with(&text, "cfg/filter.cfg", &[], golden_symbols(), &utc()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    cfg
}

#[test]
fn golden_filter_cfg_compiles_every_definition() {
    let cfg = golden_config();
    let names: Vec<&str> = cfg.definition_names().collect();
    assert_eq!(names.len(), 46, "{names:?}");
    for name in names {
        cfg.definition(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// (case id, definition) of every `flow-nfilter -F DEF < small.ft |
/// flow-print -f 5` golden case.
fn small_cases() -> Vec<(String, String)> {
    let tsv = golden_text("cases.tsv");
    tsv.lines()
        .filter_map(|line| {
            let mut cols = line.splitn(3, '\t');
            let id = cols.next()?;
            let _tz = cols.next()?;
            let cmd = cols.next()?;
            if !id.starts_with("nfilter_small_") || !cmd.ends_with("< small.ft | flow-print -f 5") {
                return None;
            }
            let def = cmd.split(" -F ").nth(1)?.split_whitespace().next()?;
            Some((id.to_string(), def.to_string()))
        })
        .collect()
}

#[test]
fn golden_small_ft_outputs_match_flow_tools() {
    let cfg = golden_config();
    let cases = small_cases();
    assert!(cases.len() >= 40, "{}", cases.len());
    let records = read_ft("inputs/small.ft");
    assert_eq!(records.len(), 296);
    for (id, def) in cases {
        let f = cfg.definition(&def).unwrap_or_else(|e| panic!("{id}: {e}"));
        let ours: Vec<Vec<String>> = records
            .iter()
            .filter(|r| f.matches(r))
            .map(f5_row)
            .collect();
        let theirs = golden_rows(&id, 2);
        assert_eq!(ours.len(), theirs.len(), "{id}: number of flows");
        assert_eq!(ours, theirs, "{id}");
    }
}

#[test]
fn golden_vars_and_f3_outputs_match_flow_tools() {
    let text = golden_text("inputs/cfg/vars.cfg");
    let records = read_ft("inputs/small.ft");
    let run = |cfg_text: &str, def: &str, vars: &[(&str, &str)]| -> Vec<Vec<String>> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let (cfg, _) =
            FilterConfig::parse_with(cfg_text, "c", &vars, golden_symbols(), &utc()).unwrap();
        let f = cfg.definition(def).unwrap();
        records
            .iter()
            .filter(|r| f.matches(r))
            .map(f3_row)
            .collect()
    };
    assert_eq!(run(&text, "d", &[]), golden_rows("nfilter_vars_default", 1));
    assert_eq!(
        run(&text, "d", &[("PORT", "53")]),
        golden_rows("nfilter_vars_port53", 1)
    );
    assert_eq!(
        run(&text, "d2", &[("PROT", "udp")]),
        golden_rows("nfilter_vars_prot_udp", 1)
    );
    let all = run(&text, "d2", &[("PROT", "17"), ("DEF", "permit")]);
    let wc: usize = golden_text("expected/nfilter_vars_default_permit.out")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(all.len() + 1, wc);
    let dup = std::fs::read_to_string(error_cfg("duplicate-entry.cfg")).unwrap();
    assert_eq!(
        run(&dup, "d", &[]),
        golden_rows("nfilter_duplicate_entry_warning", 1)
    );
    let main_cfg = golden_text("inputs/cfg/filter.cfg");
    assert_eq!(
        run(&main_cfg, "default", &[]),
        golden_rows("nfilter_default_definition", 1)
    );
}

/// The "Total Flows" of a golden flow-stat -f 0 output.
fn golden_total_flows(id: &str) -> Option<usize> {
    let text = golden_text(&format!("expected/{id}.out"));
    text.lines()
        .find(|l| l.starts_with("Total Flows"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn golden_main_capture_counts_match_flow_tools() {
    let cfg = golden_config();
    let dir = "inputs/main/2026/2026-11/2026-11-21";
    let mut records = read_ft(&format!("{dir}/ft-v05.2026-11-21.211924-0500"));
    records.extend(read_ft(&format!("{dir}/ft-v05.2026-11-21.211927-0500")));
    assert_eq!(records.len(), 5106);
    let tsv = golden_text("cases.tsv");
    let mut checked = 0;
    for line in tsv.lines() {
        let mut cols = line.splitn(3, '\t');
        let (Some(id), Some(tz), Some(cmd)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        if !id.starts_with("nfilter_main_") || tz != "UTC" || cmd.contains("flow-print") {
            continue;
        }
        let Some(def) = cmd
            .split(" -F ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
        else {
            continue;
        };
        // Time-of-day and date filters see exporter 127.0.0.5's flows at
        // different times: flow-tools does not correct the sysUpTime wrap,
        // we do (documented difference, spec §3).
        let exporter5 = ip("127.0.0.5");
        let f = cfg.definition(def).unwrap();
        let time_based = ["late_start", "early_end", "tod_late"].contains(&def);
        // flow-stat ignores flows with dPkts=0 ("Ignoring bogus flow").
        let records: Vec<&Record> = records.iter().filter(|r| r.packets != 0).collect();
        let ours = records.iter().filter(|r| f.matches(r)).count();
        let Some(theirs) = golden_total_flows(id) else {
            continue;
        };
        if time_based {
            let ours_without5 = records
                .iter()
                .filter(|r| r.exporter != exporter5 && f.matches(r))
                .count();
            let n5 = records.iter().filter(|r| r.exporter == exporter5).count();
            assert!(
                ours_without5 <= theirs && theirs <= ours_without5 + n5,
                "{id}: {ours_without5}..{} vs {theirs}",
                ours_without5 + n5
            );
        } else {
            assert_eq!(ours, theirs, "{id}");
        }
        checked += 1;
    }
    assert!(checked >= 40, "{checked}");
}

// ------------------------------------------------------------ expressions

#[test]
fn expressions_from_the_brief_work_verbatim() {
    let f = compile_expr("6 ne $protocol && 17 ne $protocol && 1 ne $protocol").unwrap();
    assert!(!f.matches(&rec_with(|r| r.protocol = 6)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 17)));
    assert!(!f.matches(&rec_with(|r| r.protocol = 1)));
    assert!(f.matches(&rec_with(|r| r.protocol = 47)));
    let f = compile_expr("0x0 ne $tos").unwrap();
    assert!(f.matches(&rec_with(|r| r.tos = 0x10)));
    assert!(!f.matches(&rec_with(|r| r.tos = 0)));
    let f = compile_expr("\"192.168.88.134\" eq $exporterip").unwrap();
    assert!(f.matches(&rec_with(|r| r.exporter = ip("192.168.88.134"))));
    assert!(!f.matches(&rec_with(|r| r.exporter = ip("192.168.88.135"))));
}

#[test]
fn expressions_prefixes_order_and_logic() {
    let f = compile_expr("\"10.0.0.0/8\" eq $srcip").unwrap();
    assert!(f.matches(&rec_with(|r| r.src_addr = ip("10.200.0.1"))));
    assert!(!f.matches(&rec_with(|r| r.src_addr = ip("11.0.0.1"))));
    let f = compile_expr("$dstip != 192.0.2.0/24").unwrap();
    assert!(f.matches(&rec_with(|r| r.dst_addr = ip("192.0.3.1"))));
    assert!(!f.matches(&rec_with(|r| r.dst_addr = ip("192.0.2.1"))));
    let f = compile_expr("1024 <= $srcport and not ($dstport == 22 || $dstport == 23)").unwrap();
    assert!(f.matches(&flow("1.1.1.1", 1024, "2.2.2.2", 80)));
    assert!(!f.matches(&flow("1.1.1.1", 1023, "2.2.2.2", 80)));
    assert!(!f.matches(&flow("1.1.1.1", 2000, "2.2.2.2", 23)));
    let f = compile_expr("$bytes > 1000 && $pkts < 100 && $srcport != $dstport").unwrap();
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 2)));
    let f = compile_expr(&format!(
        "$startime == {} && $endtime == {} && $duration == 50000",
        NOW - 60,
        NOW - 10
    ))
    .unwrap();
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 2)));
    let f = compile_expr(
        "$src_as == 0 && $dst_mask >= 24 && $input_if == 1 && $output_if == 2 \
                          && $tcp_flags == 0x1b && $nexthop == \"10.255.0.1\" && $src_mask == 24 \
                          && $dst_as == 0",
    )
    .unwrap();
    assert!(f.matches(&flow("1.1.1.1", 1, "2.2.2.2", 2)));
}

#[test]
fn expression_errors_have_positions_and_say_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        ("$srcport ==", "<expr>:1:12: unexpected the end of the expression; expected a $field or a quoted address or an address or a number"),
        ("$nosuch == 1", "<expr>:1:1: unknown field \"$nosuch\"; expected one of $srcip $srcaddr $dstip $dstaddr $exporterip $exaddr $nexthop $srcport $dstport $protocol $prot $tos $tcp_flags $input_if $output_if $pkts $packets $bytes $octets $src_as $dst_as $src_mask $dst_mask $engine_id $engine_type $startime $starttime $endtime $duration"),
        ("1 == 2", "<expr>:1:1: this comparison has no $field; expected a $field on one side"),
        ("$srcport == \"10.0.0.0/8\"", "<expr>:1:13: an address can only be compared with $srcip, $dstip, $exporterip or $nexthop; expected a number here"),
        ("$srcip < \"10.0.0.0/8\"", "<expr>:1:8: a prefix can only be tested with eq/== or ne/!=; expected one of those"),
        ("$srcip == \"10.0.0.0/33\"", "<expr>:1:11: bad prefix length in \"10.0.0.0/33\"; expected /0 to /32"),
        ("$srcip == \"mail\"", "<expr>:1:11: unexpected \"mail\"; expected a number, an address or a $field"),
        ("$pkts == 99999999999999999999", "<expr>:1:10: number \"99999999999999999999\" is too large; expected at most 2^63-1"),
    ];
    for (text, message) in cases {
        let e = compile_expr(text)
            .err()
            .unwrap_or_else(|| panic!("{text} compiled"));
        assert_eq!(e.to_string(), *message, "{text}");
    }
}

// ------------------------------------------------------------ robustness

/// Parse + compile + evaluate on arbitrary text must never panic.
fn exercise(text: &str, symbols: &Symbols) {
    if let Ok((cfg, _)) = FilterConfig::parse_with(text, "fuzz", &[], symbols, &utc()) {
        let names: Vec<String> = cfg.definition_names().map(str::to_string).collect();
        for n in names {
            if let Ok(f) = cfg.definition(&n) {
                let _ = f.matches(&flow("1.2.3.4", 5, "6.7.8.9", 10));
                let _ = f.matches(&Record::default());
            }
        }
    }
    if let Ok(f) = compile_expr(text) {
        let _ = f.matches(&Record::default());
    }
}

#[test]
fn garbage_and_mutations_never_panic() {
    // Mostly the small O'Reilly config (debug-mode parsing is slow), the
    // big golden one now and then.
    let small = std::fs::read_to_string(fixture("filters/oreilly.cfg")).unwrap();
    let big = golden_text("inputs/cfg/filter.cfg");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let pieces = [
        "@",
        "@{",
        "}",
        ":-",
        "-",
        ",",
        "!",
        "/",
        ".",
        "0x",
        "permit",
        "deny",
        "type",
        "match",
        "or",
        "invert",
        "default",
        "mask",
        "filter-primitive",
        "filter-definition",
        "\n",
        " ",
        "\t",
        "#",
        "999999999999999999999",
        "é",
        "\u{0}",
        "$srcip",
        "==",
        "(",
        ")",
        "\"",
        "&&",
        "ip-address-prefix",
        "time-date",
        "rate",
        "counter",
        "lt",
        "0",
        "/33",
        "255.255.255.255",
    ];
    let symbols = Symbols::builtin();
    for round in 0..500 {
        let base = if round % 25 == 0 { &big } else { &small };
        let mut bytes: Vec<char> = base.chars().collect();
        let edits = 1 + next() % 8;
        for _ in 0..edits {
            if bytes.is_empty() {
                break;
            }
            let at = (next() as usize) % bytes.len();
            match next() % 4 {
                0 => {
                    bytes.remove(at);
                }
                1 => {
                    let p = pieces[(next() as usize) % pieces.len()];
                    for (k, c) in p.chars().enumerate() {
                        bytes.insert((at + k).min(bytes.len()), c);
                    }
                }
                2 => bytes[at] = char::from_u32((next() % 0x80) as u32).unwrap_or('x'),
                _ => {
                    let len = (next() as usize % 40).min(bytes.len() - at);
                    bytes.drain(at..at + len);
                }
            }
        }
        let text: String = bytes.into_iter().collect();
        exercise(&text, &symbols);
        if round % 10 == 0 {
            // pure garbage built from the pieces
            let n = next() % 30;
            let g: String = (0..n)
                .map(|_| pieces[(next() as usize) % pieces.len()])
                .collect();
            exercise(&g, &symbols);
        }
    }
}

#[test]
fn filters_report_the_fields_they_read() {
    use formats::native::Fields;
    let f = util::filter(
        "filter-primitive tcp\n  type ip-protocol\n  permit tcp\n\
         filter-primitive smtp-port\n  type ip-port\n  permit 25\n\
         filter-definition smtp\n  match ip-protocol tcp\n  match dst-ip-port smtp-port\n",
        "smtp",
    );
    assert_eq!(f.fields(), Fields::KIND | Fields::PORTS);
    let f = filterlang::compile_expr("\"10.0.0.0/8\" eq $srcip && $bytes > 100").unwrap();
    assert_eq!(f.fields(), Fields::SRC_ADDR | Fields::OCTETS);
    let f = filterlang::compile_expr("$startime > 0 || ! (6 eq $protocol)").unwrap();
    assert!(f.fields().contains(Fields::TIMES | Fields::KIND));
    assert!(!f.fields().contains(Fields::DST_ADDR));
}
