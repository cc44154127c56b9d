//! AST -> lookup tables and resolved definitions.
//!
//! Each primitive's entries are read according to its type (numbers,
//! ranges, symbols, addresses, operators, dates) into the table
//! `eval.rs` runs; each definition's `match` lines are resolved to a match
//! type and a primitive of a compatible type. All definitions are checked,
//! used or not. Building a [`Filter`] for one definition then only checks
//! that its fields exist in NetFlow v5 and copies table handles.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::ast::{self, CmpOp, Expr, Item, Mode, Operand, PrimitiveStatement, Word};
use crate::date::{self, Zone};
use crate::error::{Diagnostic, FilterError, Span};
use crate::eval::{
    AddrField, Bits16, CounterField, ExactSet, ExprField, ExprNode, Filter, MaskList, OrderedList,
    PrefixTable, RateField, Test, TimeField, U16Field, U8Field,
};
use crate::number::{
    atoi, is_clean_address, len_to_mask, scan_ip, scan_ip_prefix, strtod, strtoul,
};
use crate::symbols::{SymbolTable, Symbols};

// ------------------------------------------------------------ primitive types

/// The primitive types of filter.cfg (spec §8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrimType {
    As,
    IpAddressPrefix,
    IpAddress,
    IpAddressMask,
    IpProtocol,
    IpPort,
    IpAddressPrefixLen,
    IpTos,
    IpTcpFlags,
    IfIndex,
    Counter,
    TimeDate,
    Engine,
    Tag,
    TagMask,
    Time,
    Double,
    Rate,
}

const PRIM_TYPES: &[(&str, PrimType)] = &[
    ("as", PrimType::As),
    ("counter", PrimType::Counter),
    ("double", PrimType::Double),
    ("engine", PrimType::Engine),
    ("ifindex", PrimType::IfIndex),
    ("ip-address", PrimType::IpAddress),
    ("ip-address-mask", PrimType::IpAddressMask),
    ("ip-address-prefix", PrimType::IpAddressPrefix),
    ("ip-address-prefix-len", PrimType::IpAddressPrefixLen),
    ("ip-port", PrimType::IpPort),
    ("ip-protocol", PrimType::IpProtocol),
    ("ip-tcp-flags", PrimType::IpTcpFlags),
    ("ip-tos", PrimType::IpTos),
    ("rate", PrimType::Rate),
    ("tag", PrimType::Tag),
    ("tag-mask", PrimType::TagMask),
    ("time", PrimType::Time),
    ("time-date", PrimType::TimeDate),
];

impl PrimType {
    fn from_name(name: &str) -> Option<PrimType> {
        PRIM_TYPES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, t)| *t)
    }

    fn name(self) -> &'static str {
        PRIM_TYPES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("?", |(n, _)| n)
    }
}

// ---------------------------------------------------------------- match types

/// What a `match` line reads from the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchKind {
    SrcAs,
    DstAs,
    IpProtocol,
    SrcPrefixLen,
    DstPrefixLen,
    IpTos,
    IpMarkedTos,
    IpTcpFlags,
    SrcPort,
    DstPort,
    InputIf,
    OutputIf,
    EngineId,
    EngineType,
    Flows,
    Octets,
    Packets,
    ExtraPackets,
    Duration,
    StartTime,
    EndTime,
    SrcTag,
    DstTag,
    SrcAddr,
    DstAddr,
    ExporterAddr,
    NextHopAddr,
    ShortcutAddr,
    Bps,
    Pps,
    RandomSample,
}

const MATCH_TYPES: &[(&str, MatchKind)] = &[
    ("src-as", MatchKind::SrcAs),
    ("source-as", MatchKind::SrcAs),
    ("dst-as", MatchKind::DstAs),
    ("destination-as", MatchKind::DstAs),
    ("ip-protocol", MatchKind::IpProtocol),
    ("src-ip-addr-prefix-len", MatchKind::SrcPrefixLen),
    ("ip-source-address-prefix-len", MatchKind::SrcPrefixLen),
    ("dst-ip-addr-prefix-len", MatchKind::DstPrefixLen),
    ("ip-destination-address-prefix-len", MatchKind::DstPrefixLen),
    ("ip-tos", MatchKind::IpTos),
    ("ip-marked-tos", MatchKind::IpMarkedTos),
    ("ip-tcp-flags", MatchKind::IpTcpFlags),
    ("src-ip-port", MatchKind::SrcPort),
    ("ip-source-port", MatchKind::SrcPort),
    ("dst-ip-port", MatchKind::DstPort),
    ("ip-destination-port", MatchKind::DstPort),
    ("src-ifindex", MatchKind::InputIf),
    ("input-interface", MatchKind::InputIf),
    ("dst-ifindex", MatchKind::OutputIf),
    ("output-interface", MatchKind::OutputIf),
    ("engine-id", MatchKind::EngineId),
    ("engine-type", MatchKind::EngineType),
    ("flows", MatchKind::Flows),
    ("octets", MatchKind::Octets),
    ("packets", MatchKind::Packets),
    ("extra-packets", MatchKind::ExtraPackets),
    ("duration", MatchKind::Duration),
    ("start-time", MatchKind::StartTime),
    ("end-time", MatchKind::EndTime),
    ("src-tag", MatchKind::SrcTag),
    ("source-tag", MatchKind::SrcTag),
    ("dst-tag", MatchKind::DstTag),
    ("destination-tag", MatchKind::DstTag),
    ("src-ip-addr", MatchKind::SrcAddr),
    ("ip-source-address", MatchKind::SrcAddr),
    ("dst-ip-addr", MatchKind::DstAddr),
    ("ip-destination-address", MatchKind::DstAddr),
    ("exporter-ip-addr", MatchKind::ExporterAddr),
    ("ip-exporter-address", MatchKind::ExporterAddr),
    ("nexthop-ip-addr", MatchKind::NextHopAddr),
    ("ip-nexthop-address", MatchKind::NextHopAddr),
    ("shortcut-ip-addr", MatchKind::ShortcutAddr),
    ("ip-shortcut-address", MatchKind::ShortcutAddr),
    ("bps", MatchKind::Bps),
    ("pps", MatchKind::Pps),
    ("random-sample", MatchKind::RandomSample),
];

const ADDRESS_TYPES: &[PrimType] = &[
    PrimType::IpAddress,
    PrimType::IpAddressMask,
    PrimType::IpAddressPrefix,
];

impl MatchKind {
    fn from_name(name: &str) -> Option<MatchKind> {
        MATCH_TYPES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, k)| *k)
    }

    /// Primitive types this match accepts (flow-tools' validity check).
    fn accepts(self) -> &'static [PrimType] {
        use MatchKind::*;
        match self {
            SrcAs | DstAs => &[PrimType::As],
            IpProtocol => &[PrimType::IpProtocol],
            SrcPrefixLen | DstPrefixLen => &[PrimType::IpAddressPrefixLen],
            IpTos | IpMarkedTos => &[PrimType::IpTos],
            IpTcpFlags => &[PrimType::IpTcpFlags],
            SrcPort | DstPort => &[PrimType::IpPort],
            InputIf | OutputIf => &[PrimType::IfIndex],
            EngineId | EngineType => &[PrimType::Engine],
            Flows | Octets | Packets | ExtraPackets | Duration => &[PrimType::Counter],
            StartTime => &[PrimType::TimeDate, PrimType::Time, PrimType::Counter],
            EndTime => &[PrimType::TimeDate, PrimType::Time],
            SrcTag | DstTag => &[PrimType::Tag, PrimType::TagMask],
            SrcAddr | DstAddr | ExporterAddr | NextHopAddr | ShortcutAddr => ADDRESS_TYPES,
            Bps | Pps => &[PrimType::Double],
            RandomSample => &[PrimType::Rate],
        }
    }

    /// The flow-tools field this match reads when NetFlow v5 lacks it.
    fn missing_in_v5(self) -> Option<&'static str> {
        match self {
            MatchKind::IpMarkedTos => Some("marked_tos"),
            MatchKind::Flows => Some("dFlows"),
            MatchKind::ExtraPackets => Some("extra_pkts"),
            MatchKind::SrcTag => Some("src_tag"),
            MatchKind::DstTag => Some("dst_tag"),
            MatchKind::ShortcutAddr => Some("router_sc"),
            _ => None,
        }
    }
}

fn match_type_list() -> String {
    let mut names: Vec<&str> = MATCH_TYPES.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.join(", ")
}

// ------------------------------------------------------------- compiled parts

/// A primitive's lookup table.
#[derive(Clone, Debug)]
pub(crate) enum Table {
    Bits8 {
        mask: u8,
        bits: [u64; 4],
    },
    Bits16(Arc<Bits16>),
    Exact(Arc<ExactSet>),
    Mask(Arc<MaskList>),
    Prefix(Arc<PrefixTable>),
    Counter(Arc<OrderedList<u32>>),
    TimeDate(Arc<OrderedList<i64>>),
    Time(Arc<OrderedList<i64>>),
    Double(Arc<OrderedList<f64>>),
    /// tag / tag-mask: parsed and checked, but v5 flows have no tags.
    Tag,
    Rate {
        rate: u64,
        hit: bool,
    },
    RateUnset,
    /// A primitive without a `type` line.
    Untyped,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledPrimitive {
    pub name: Word,
    pub ty: PrimType,
    pub table: Table,
}

#[derive(Clone, Debug)]
pub(crate) struct ResolvedMatch {
    pub kind: MatchKind,
    pub match_type: Word,
    pub primitive: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledDefinition {
    pub name: Word,
    pub groups: Vec<Vec<ResolvedMatch>>,
    pub invert: bool,
}

/// Options that make loading reproducible.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context {
    pub now: i64,
    pub zone: Zone,
}

/// The compiled config.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub primitives: Vec<CompiledPrimitive>,
    pub definitions: Vec<CompiledDefinition>,
    pub zone: Zone,
}

struct Compiler<'a> {
    file: &'a str,
    symbols: &'a Symbols,
    ctx: Context,
    warnings: Vec<Diagnostic>,
}

/// Compiles a parsed config.
pub(crate) fn compile(
    config: &ast::Config,
    file: &str,
    symbols: &Symbols,
    ctx: Context,
) -> Result<(Compiled, Vec<Diagnostic>), FilterError> {
    let mut c = Compiler {
        file,
        symbols,
        ctx,
        warnings: Vec::new(),
    };
    let mut primitives = Vec::new();
    for item in &config.items {
        if let Item::Primitive(p) = item {
            primitives.push(c.primitive(p)?);
        }
    }
    let by_name: HashMap<String, usize> = primitives
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.text.to_ascii_lowercase(), i))
        .collect();
    let mut definitions = Vec::new();
    for item in &config.items {
        if let Item::Definition(d) = item {
            definitions.push(c.definition(d, &primitives, &by_name)?);
        }
    }
    Ok((
        Compiled {
            primitives,
            definitions,
            zone: ctx.zone,
        },
        c.warnings,
    ))
}

fn op_from_word(word: &str) -> Option<CmpOp> {
    Some(match word.to_ascii_lowercase().as_str() {
        "lt" => CmpOp::Lt,
        "gt" => CmpOp::Gt,
        "eq" => CmpOp::Eq,
        "ne" => CmpOp::Ne,
        "le" => CmpOp::Le,
        "ge" => CmpOp::Ge,
        _ => return None,
    })
}

fn op_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "lt",
        CmpOp::Gt => "gt",
        CmpOp::Eq => "eq",
        CmpOp::Ne => "ne",
        CmpOp::Le => "le",
        CmpOp::Ge => "ge",
    }
}

/// Span of the character at byte `offset` of a word.
fn sub_span(word: &Word, offset: usize) -> Span {
    let chars = word
        .text
        .get(..offset)
        .map_or(offset, |s| s.chars().count());
    Span::new(word.span.line, word.span.col + chars)
}

const UNSET: u8 = 0;
const PERMIT: u8 = 1;
const DENY: u8 = 2;

fn mode_code(mode: Mode) -> u8 {
    if mode.permits() {
        PERMIT
    } else {
        DENY
    }
}

fn code_name(code: u8) -> &'static str {
    if code == PERMIT {
        "permit"
    } else {
        "deny"
    }
}

/// What a bucket primitive's values are, for messages and symbol lookups.
struct BucketSpec<'s> {
    /// `ip-port`, ...
    what: &'static str,
    /// Values are 0..size.
    size: usize,
    /// The symbol table names are looked up in, with its file name.
    symbols: Option<(&'s SymbolTable, &'static str)>,
}

/// Bucket state while reading entries: mode of each value, and the line
/// that set it (for warnings).
struct Bucket {
    modes: Vec<u8>,
    lines: Vec<u32>,
}

/// The per-type accumulators of a primitive being compiled.
enum Builder {
    Bucket(Bucket),
    Exact(HashMap<u32, (bool, usize)>),
    Mask(Vec<(u32, u32, bool, usize)>),
    Prefix(Vec<(u32, u8, bool, usize)>),
    Counter(Vec<(CmpOp, u32, bool, usize)>),
    TimeDate(Vec<(CmpOp, i64, bool, usize)>),
    Time(Vec<(CmpOp, i64, bool, usize)>),
    Double(Vec<(CmpOp, f64, bool, usize)>),
    Tag(HashMap<u32, usize>),
    TagMask(Vec<(u32, u32, usize)>),
    Rate(Option<(u64, bool, usize)>),
}

impl<'a> Compiler<'a> {
    fn err(&self, span: Span, message: impl Into<String>) -> FilterError {
        FilterError::at(self.file, span, message)
    }

    fn warn(&mut self, span: Span, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            file: self.file.to_string(),
            span,
            message: message.into(),
        });
    }

    fn extra(&self, word: &Word, after: &str) -> FilterError {
        self.err(
            word.span,
            format!(
                "unexpected \"{}\" after {after}; expected the end of the line \
                 (lists are written without spaces, e.g. 22,23,25)",
                word.text
            ),
        )
    }

    fn bucket_spec(&self, ty: PrimType) -> BucketSpec<'a> {
        let symbols: &'a Symbols = self.symbols;
        match ty {
            PrimType::IpProtocol => BucketSpec {
                what: "ip-protocol",
                size: 256,
                symbols: Some((symbols.protocols(), "ip-prot.sym")),
            },
            PrimType::IpPort => BucketSpec {
                what: "ip-port",
                size: 65536,
                symbols: Some((symbols.ports(), "tcp-port.sym")),
            },
            // flow-tools looks AS names up in tag.sym (sic).
            PrimType::As => BucketSpec {
                what: "as",
                size: 65536,
                symbols: Some((symbols.tags(), "tag.sym")),
            },
            PrimType::IpAddressPrefixLen => BucketSpec {
                what: "ip-address-prefix-len",
                size: 33,
                symbols: None,
            },
            PrimType::IpTos => BucketSpec {
                what: "ip-tos",
                size: 256,
                symbols: None,
            },
            PrimType::IpTcpFlags => BucketSpec {
                what: "ip-tcp-flags",
                size: 256,
                symbols: None,
            },
            PrimType::IfIndex => BucketSpec {
                what: "ifindex",
                size: 65536,
                symbols: None,
            },
            _ => BucketSpec {
                what: "engine",
                size: 65536,
                symbols: None,
            },
        }
    }

    /// One value of a bucket list: a number (strtoul base 0) or, when it
    /// starts with a letter, a symbol. Checks the range.
    fn bucket_value(
        &mut self,
        spec: &BucketSpec<'_>,
        word: &Word,
        start: usize,
        token: &str,
    ) -> Result<usize, FilterError> {
        let span = sub_span(word, start);
        let max = spec.size - 1;
        let value: u32 = if token
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
        {
            let hyphen_hint = if word.text[start + token.len()..].starts_with('-') {
                format!(
                    " (in \"{}\": \"-\" is the range operator, so names with a hyphen cannot \
                     be used; write the number instead)",
                    word.text
                )
            } else {
                String::new()
            };
            match spec.symbols {
                Some((table, file)) => match table.value(token) {
                    Some(v) => v,
                    None => {
                        let shadow = table
                            .shadowed_value(token)
                            .map(|v| {
                                format!(
                                    " (\"{token}\" is listed in {file}, but its number {v} is \
                                     given another name later in the file, so the name cannot be \
                                     used)"
                                )
                            })
                            .unwrap_or_default();
                        return Err(self.err(
                            span,
                            format!(
                                "unknown {} name \"{token}\"{shadow}{hyphen_hint}; expected a \
                                 number 0-{max} or a name from {file} ({})",
                                spec.what,
                                table.source()
                            ),
                        ));
                    }
                },
                None => {
                    return Err(self.err(
                        span,
                        format!(
                            "\"{token}\" is not a number; {} values have no names, expected a \
                             number 0-{max}",
                            spec.what
                        ),
                    ))
                }
            }
        } else {
            let scanned = strtoul(token);
            if !scanned.complete {
                if token.is_empty() {
                    self.warn(
                        span,
                        format!("empty value in \"{}\" is read as 0", word.text),
                    );
                } else {
                    self.warn(
                        span,
                        format!(
                            "\"{token}\" is read as {} (C strtoul)",
                            scanned.value as u32
                        ),
                    );
                }
            }
            scanned.value as u32
        };
        let value = value as usize;
        if value >= spec.size {
            return Err(self.err(
                span,
                if token == value.to_string() {
                    format!(
                        "value {value} out of range for {}; expected 0-{max}",
                        spec.what
                    )
                } else {
                    format!(
                        "value {value} (\"{token}\") out of range for {}; expected 0-{max}",
                        spec.what
                    )
                },
            ));
        }
        Ok(value)
    }

    fn bucket_set(
        &mut self,
        spec: &BucketSpec<'_>,
        bucket: &mut Bucket,
        value: usize,
        code: u8,
        span: Span,
        warn_if_set: bool,
    ) {
        let Some(old) = bucket.modes.get(value).copied() else {
            return;
        };
        if warn_if_set && old != UNSET {
            let old_line = bucket.lines.get(value).copied().unwrap_or(0);
            self.warn(
                span,
                format!(
                    "{} value {value} was already set to {} at line {old_line}; the later \
                     setting ({}) wins",
                    spec.what,
                    code_name(old),
                    code_name(code)
                ),
            );
        }
        bucket.modes[value] = code;
        if let Some(line) = bucket.lines.get_mut(value) {
            *line = u32::try_from(span.line).unwrap_or(u32::MAX);
        }
    }

    /// flow-tools `ftfil_load_lookup`: `[!]a[-b][,c[-d]]...`.
    fn load_bucket(
        &mut self,
        ty: PrimType,
        bucket: &mut Bucket,
        word: &Word,
        mode: Mode,
    ) -> Result<(), FilterError> {
        let spec = self.bucket_spec(ty);
        let text = word.text.as_str();
        let bytes = text.as_bytes();
        let (flag, mut p) = if bytes.first() == Some(&b'!') {
            (mode_code(mode.opposite()), 1)
        } else {
            (mode_code(mode), 0)
        };
        let token_end = |from: usize| {
            let mut r = from;
            while r < bytes.len() && bytes[r] != b',' && bytes[r] != b'-' {
                r += 1;
            }
            r
        };
        while p < bytes.len() {
            let q = p;
            let r = token_end(q);
            let i = self.bucket_value(&spec, word, q, &text[q..r])?;
            let span = sub_span(word, q);
            self.bucket_set(&spec, bucket, i, flag, span, true);
            if r >= bytes.len() {
                break;
            }
            let sep = bytes[r];
            p = r + 1;
            if sep == b'-' {
                let q2 = p;
                let r2 = token_end(q2);
                let i2 = self.bucket_value(&spec, word, q2, &text[q2..r2])?;
                if i2 < i {
                    self.warn(
                        span,
                        format!(
                            "reversed range \"{}\" sets only {i}; expected LOW-HIGH",
                            &text[q..r2]
                        ),
                    );
                }
                for j in i + 1..=i2 {
                    self.bucket_set(&spec, bucket, j, flag, span, true);
                }
                p = r2 + 1;
                if r2 >= bytes.len() {
                    break;
                }
            }
        }
        if ty == PrimType::Engine {
            if let Some(v) = bucket
                .modes
                .iter()
                .skip(256)
                .position(|&m| m != UNSET)
                .map(|v| v + 256)
            {
                self.warn(
                    word.span,
                    format!("engine value {v} can never match (engine ids and types are 0-255)"),
                );
            }
        }
        Ok(())
    }

    fn primitive(&mut self, p: &ast::Primitive) -> Result<CompiledPrimitive, FilterError> {
        let prim_name = p.name.text.as_str();
        let Some(type_word) = &p.type_name else {
            // No type line (and so, by the parser's rules, no other line):
            // flow-tools accepts it; using it in a definition is an error.
            return Ok(CompiledPrimitive {
                name: p.name.clone(),
                ty: PrimType::Rate,
                table: Table::Untyped,
            });
        };
        let ty = PrimType::from_name(&type_word.text).ok_or_else(|| {
            self.err(
                type_word.span,
                format!(
                    "unknown primitive type \"{}\"; expected one of {}",
                    type_word.text,
                    PRIM_TYPES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let mut default = Mode::Deny;
        let mut mask: u8 = 0xff;
        let mut builder = match ty {
            PrimType::As
            | PrimType::IpProtocol
            | PrimType::IpPort
            | PrimType::IpAddressPrefixLen
            | PrimType::IpTos
            | PrimType::IpTcpFlags
            | PrimType::IfIndex
            | PrimType::Engine => {
                let size = self.bucket_spec(ty).size;
                Builder::Bucket(Bucket {
                    modes: vec![UNSET; size],
                    lines: vec![0; size],
                })
            }
            PrimType::IpAddress => Builder::Exact(HashMap::new()),
            PrimType::IpAddressMask => Builder::Mask(Vec::new()),
            PrimType::IpAddressPrefix => Builder::Prefix(Vec::new()),
            PrimType::Counter => Builder::Counter(Vec::new()),
            PrimType::TimeDate => Builder::TimeDate(Vec::new()),
            PrimType::Time => Builder::Time(Vec::new()),
            PrimType::Double => Builder::Double(Vec::new()),
            PrimType::Tag => Builder::Tag(HashMap::new()),
            PrimType::TagMask => Builder::TagMask(Vec::new()),
            PrimType::Rate => Builder::Rate(None),
        };
        for statement in &p.statements {
            match statement {
                PrimitiveStatement::Default { keyword, args } => {
                    let Some(value) = args.first() else {
                        return Err(self.err(
                            *keyword,
                            "default without a value; expected \"default permit\" or \"default deny\"",
                        ));
                    };
                    default = match value.text.to_ascii_lowercase().as_str() {
                        "permit" => Mode::Permit,
                        "deny" => Mode::Deny,
                        _ => {
                            return Err(self.err(
                                value.span,
                                format!(
                                    "unexpected \"{}\" after default; expected permit or deny",
                                    value.text
                                ),
                            ))
                        }
                    };
                    if let Some(extra) = args.get(1) {
                        return Err(self.extra(extra, &format!("\"default {}\"", value.text)));
                    }
                    if ty == PrimType::Rate {
                        self.warn(
                            *keyword,
                            "rate primitives have no default mode; line ignored",
                        );
                    }
                }
                PrimitiveStatement::Mask { keyword, args } => {
                    let Some(value) = args.first() else {
                        return Err(self.err(
                            *keyword,
                            "mask without a value; expected \"mask <number>\", e.g. mask 0x3f",
                        ));
                    };
                    if !matches!(ty, PrimType::IpTos | PrimType::IpTcpFlags) {
                        return Err(self.err(
                            *keyword,
                            format!(
                                "mask is not supported for filter-primitive \"{prim_name}\" of \
                                 type {}; expected it only in ip-tos or ip-tcp-flags primitives",
                                ty.name()
                            ),
                        ));
                    }
                    let scanned = strtoul(&value.text);
                    if !scanned.complete || scanned.value > 0xff {
                        self.warn(
                            value.span,
                            format!(
                                "mask \"{}\" is read as {:#04x}",
                                value.text, scanned.value as u8
                            ),
                        );
                    }
                    mask = scanned.value as u8;
                    if let Some(extra) = args.get(1) {
                        return Err(self.extra(extra, &format!("\"mask {}\"", value.text)));
                    }
                }
                PrimitiveStatement::Entry {
                    mode,
                    args,
                    rest_after_first,
                    ..
                } => {
                    self.entry(ty, &mut builder, *mode, args, rest_after_first.as_ref())?;
                }
            }
        }
        let permit_default = default.permits();
        let table = match builder {
            Builder::Bucket(b) => {
                let verdict = |m: u8| m == PERMIT || (m == UNSET && permit_default);
                if matches!(
                    ty,
                    PrimType::IpProtocol
                        | PrimType::IpTos
                        | PrimType::IpTcpFlags
                        | PrimType::IpAddressPrefixLen
                        | PrimType::Engine
                ) {
                    let mut bits = [0u64; 4];
                    for v in 0..256usize {
                        let m = b.modes.get(v).copied().unwrap_or(UNSET);
                        if verdict(m) {
                            bits[v >> 6] |= 1 << (v & 63);
                        }
                    }
                    Table::Bits8 { mask, bits }
                } else {
                    let fill = if permit_default { u64::MAX } else { 0 };
                    let mut bits: Box<Bits16> = Box::new([fill; 1024]);
                    for (word, chunk) in bits.iter_mut().zip(b.modes.chunks(64)) {
                        if chunk.iter().all(|&m| m == UNSET) {
                            continue;
                        }
                        for (k, &m) in chunk.iter().enumerate() {
                            if verdict(m) {
                                *word |= 1 << k;
                            } else {
                                *word &= !(1 << k);
                            }
                        }
                    }
                    Table::Bits16(Arc::from(bits))
                }
            }
            Builder::Exact(map) => {
                let mut entries: Vec<(u32, bool)> =
                    map.into_iter().map(|(a, (m, _))| (a, m)).collect();
                entries.sort_unstable_by_key(|e| e.0);
                Table::Exact(Arc::new(ExactSet {
                    keys: entries.iter().map(|e| e.0).collect(),
                    permit: entries.iter().map(|e| e.1).collect(),
                    default: permit_default,
                }))
            }
            Builder::Mask(list) => Table::Mask(Arc::new(MaskList {
                entries: list.into_iter().map(|(a, m, p, _)| (a, m, p)).collect(),
                default: permit_default,
            })),
            Builder::Prefix(list) => Table::Prefix(Arc::new(flatten_prefixes(
                &list
                    .iter()
                    .map(|&(a, l, p, _)| (a, l, p))
                    .collect::<Vec<_>>(),
                permit_default,
            ))),
            Builder::Counter(list) => Table::Counter(Arc::new(OrderedList {
                entries: list.into_iter().map(|(o, v, p, _)| (o, v, p)).collect(),
                default: permit_default,
            })),
            Builder::TimeDate(list) => Table::TimeDate(Arc::new(OrderedList {
                entries: list.into_iter().map(|(o, v, p, _)| (o, v, p)).collect(),
                default: permit_default,
            })),
            Builder::Time(list) => Table::Time(Arc::new(OrderedList {
                entries: list.into_iter().map(|(o, v, p, _)| (o, v, p)).collect(),
                default: permit_default,
            })),
            Builder::Double(list) => Table::Double(Arc::new(OrderedList {
                entries: list.into_iter().map(|(o, v, p, _)| (o, v, p)).collect(),
                default: permit_default,
            })),
            Builder::Tag(_) | Builder::TagMask(_) => Table::Tag,
            Builder::Rate(Some((rate, hit, _))) => Table::Rate { rate, hit },
            Builder::Rate(None) => Table::RateUnset,
        };
        Ok(CompiledPrimitive {
            name: p.name.clone(),
            ty,
            table,
        })
    }

    /// One `permit` / `deny` line.
    fn entry(
        &mut self,
        ty: PrimType,
        builder: &mut Builder,
        mode: Mode,
        args: &[Word],
        rest: Option<&Word>,
    ) -> Result<(), FilterError> {
        let Some(first) = args.first() else {
            return Ok(());
        };
        let kw = mode.as_str();
        let line = first.span.line;
        // How many words the entry takes; anything after is an error.
        let arity = match ty {
            PrimType::IpAddressMask
            | PrimType::TagMask
            | PrimType::Counter
            | PrimType::Double
            | PrimType::Time => 2,
            PrimType::TimeDate => usize::MAX,
            _ => 1,
        };
        if let Some(extra) = args.get(arity) {
            let used: Vec<&str> = args[..arity].iter().map(|w| w.text.as_str()).collect();
            return Err(self.extra(extra, &format!("\"{kw} {}\"", used.join(" "))));
        }
        let second = args.get(1);
        match builder {
            Builder::Bucket(bucket) => self.load_bucket(ty, bucket, first, mode)?,
            Builder::Exact(map) => {
                let addr = scan_ip(&first.text).map_err(|m| self.err(first.span, m))?;
                self.check_address(first);
                if let Some((old, old_line)) = map.insert(addr, (mode.permits(), line)) {
                    self.warn(
                        first.span,
                        format!(
                            "address {} was already set to {} at line {old_line}; the later \
                             setting ({kw}) wins",
                            std::net::Ipv4Addr::from(addr),
                            if old { "permit" } else { "deny" }
                        ),
                    );
                }
            }
            Builder::Mask(list) => {
                let Some(mask_word) = second else {
                    return Err(self.err(
                        first.span,
                        format!(
                            "ip-address-mask entry \"{}\" has no mask; expected \
                             \"{kw} <address> <mask>\", e.g. {kw} 10.0.0.0 255.0.0.0",
                            first.text
                        ),
                    ));
                };
                let addr = scan_ip(&first.text).map_err(|m| self.err(first.span, m))?;
                let mask = scan_ip(&mask_word.text).map_err(|m| self.err(mask_word.span, m))?;
                self.check_address(first);
                self.check_address(mask_word);
                if addr & !mask != 0 {
                    self.warn(
                        first.span,
                        format!(
                            "address {} has bits outside mask {}; this entry can never match",
                            std::net::Ipv4Addr::from(addr),
                            std::net::Ipv4Addr::from(mask)
                        ),
                    );
                }
                if let Some(prev) = list.iter().find(|e| e.0 == addr && e.1 == mask) {
                    self.warn(
                        first.span,
                        format!(
                            "entry {} {} already appears at line {} ({}); both are kept and the \
                             first one matches",
                            std::net::Ipv4Addr::from(addr),
                            std::net::Ipv4Addr::from(mask),
                            prev.3,
                            if prev.2 { "permit" } else { "deny" }
                        ),
                    );
                }
                list.push((addr, mask, mode.permits(), line));
            }
            Builder::Prefix(list) => {
                let (addr, len) =
                    scan_ip_prefix(&first.text).map_err(|m| self.err(first.span, m))?;
                let addr_part = first.text.split('/').next().unwrap_or("");
                if !is_clean_address(addr_part) {
                    self.warn(
                        first.span,
                        format!(
                            "\"{}\" is read as {}/{len}",
                            first.text,
                            std::net::Ipv4Addr::from(addr)
                        ),
                    );
                }
                let masked = addr & len_to_mask(len);
                if let Some(prev) = list.iter().find(|e| e.0 == masked && e.1 == len) {
                    self.warn(
                        first.span,
                        format!(
                            "prefix {}/{len} was already set to {} at line {}; the first \
                             setting is kept",
                            std::net::Ipv4Addr::from(masked),
                            if prev.2 { "permit" } else { "deny" },
                            prev.3
                        ),
                    );
                } else {
                    list.push((masked, len, mode.permits(), line));
                }
            }
            Builder::Counter(list) => {
                let (op, value_word) =
                    self.op_and_value(first, second, kw, "counter", "<number>")?;
                let scanned = strtoul(&value_word.text);
                if !scanned.complete || scanned.value > u64::from(u32::MAX) {
                    self.warn(
                        value_word.span,
                        format!(
                            "\"{}\" is read as {}",
                            value_word.text, scanned.value as u32
                        ),
                    );
                }
                let value = scanned.value as u32;
                if let Some(prev) = list.iter().find(|e| e.0 == op && e.1 == value) {
                    self.warn(
                        first.span,
                        format!(
                            "entry {} {value} already appears at line {}; both are kept and the \
                             first one matches",
                            op_name(op),
                            prev.3
                        ),
                    );
                }
                list.push((op, value, mode.permits(), line));
            }
            Builder::Double(list) => {
                let (op, value_word) =
                    self.op_and_value(first, second, kw, "double", "<number>")?;
                let scanned = strtod(&value_word.text);
                if !scanned.complete {
                    self.warn(
                        value_word.span,
                        format!("\"{}\" is read as {}", value_word.text, scanned.value),
                    );
                }
                let value = scanned.value;
                if let Some(prev) = list.iter().find(|e| e.0 == op && e.1 == value) {
                    self.warn(
                        first.span,
                        format!(
                            "entry {} {value} already appears at line {}; both are kept and the \
                             first one matches",
                            op_name(op),
                            prev.3
                        ),
                    );
                }
                list.push((op, value, mode.permits(), line));
            }
            Builder::TimeDate(list) => {
                let Some(rest) = rest else {
                    return Err(self.err(
                        first.span,
                        format!(
                            "time-date entry \"{}\" has no date; expected \"{kw} <lt|gt|eq|ne|le|ge> \
                             <date>\", e.g. {kw} ge 2005-07-06 16:56:00",
                            first.text
                        ),
                    ));
                };
                let secs = date::parse_date(&rest.text, self.ctx.now, self.ctx.zone).map_err(
                    |e| match e {
                        // The span stays on the date's first word: a
                        // variable may have changed the columns after it.
                        FilterError::Date { col, message, .. } => self.err(
                            rest.span,
                            format!(
                                "cannot read the date \"{}\" at its character {col}: \
                                 {message}; {}",
                                rest.text,
                                crate::error::DATE_EXAMPLES
                            ),
                        ),
                        other => self.err(rest.span, other.to_string()),
                    },
                )?;
                let op = op_from_word(&first.text).ok_or_else(|| self.bad_op(first))?;
                if let Some(prev) = list.iter().find(|e| e.0 == op && e.1 == secs) {
                    self.warn(
                        first.span,
                        format!(
                            "entry {} {secs} already appears at line {}; both are kept and the \
                             first one matches",
                            op_name(op),
                            prev.3
                        ),
                    );
                }
                list.push((op, secs, mode.permits(), line));
            }
            Builder::Time(list) => {
                let (op_word, value_word) = match second {
                    Some(v) => (first, v),
                    None => {
                        return Err(self.err(
                            first.span,
                            format!(
                                "time entry \"{}\" has no time; expected \"{kw} \
                                 <lt|gt|eq|ne|le|ge> HH[:MM[:SS]]\", e.g. {kw} ge 16:56",
                                first.text
                            ),
                        ))
                    }
                };
                let parts: Vec<&str> = value_word.text.split(':').collect();
                if parts.len() > 3 {
                    return Err(self.err(
                        value_word.span,
                        format!(
                            "unexpected text in time \"{}\"; expected HH[:MM[:SS]]",
                            value_word.text
                        ),
                    ));
                }
                let mut secs: i64 = 0;
                for (k, part) in parts.iter().enumerate() {
                    let scanned = atoi(part);
                    if !scanned.complete {
                        self.warn(
                            value_word.span,
                            format!(
                                "\"{part}\" in time \"{}\" is read as {}",
                                value_word.text, scanned.value
                            ),
                        );
                    }
                    let unit = [3600i64, 60, 1][k];
                    secs = secs.saturating_add(scanned.value.saturating_mul(unit));
                }
                let op = op_from_word(&op_word.text).ok_or_else(|| self.bad_op(op_word))?;
                if let Some(prev) = list.iter().find(|e| e.0 == op && e.1 == secs) {
                    self.warn(
                        first.span,
                        format!(
                            "entry {} {} already appears at line {}; both are kept and the first \
                             one matches",
                            op_name(op),
                            value_word.text,
                            prev.3
                        ),
                    );
                }
                list.push((op, secs, mode.permits(), line));
            }
            Builder::Tag(map) => {
                let value = self.tag_value(first)?;
                if let Some(old_line) = map.insert(value, line) {
                    self.warn(
                        first.span,
                        format!("tag {value:#x} was already set at line {old_line}; the later setting wins"),
                    );
                }
            }
            Builder::TagMask(list) => {
                let Some(mask_word) = second else {
                    return Err(self.err(
                        first.span,
                        format!(
                            "tag-mask entry \"{}\" has no mask; expected \"{kw} <tag> <mask>\"",
                            first.text
                        ),
                    ));
                };
                let value = self.tag_value(first)?;
                let mask = strtoul(&mask_word.text).value as u32;
                if let Some(prev) = list.iter().find(|e| e.0 == value && e.1 == mask) {
                    self.warn(
                        first.span,
                        format!(
                            "entry {value:#x} {mask:#x} already appears at line {}; both are kept",
                            prev.2
                        ),
                    );
                }
                list.push((value, mask, line));
            }
            Builder::Rate(slot) => {
                let scanned = atoi(&first.text);
                if scanned.value == 0 {
                    return Err(self.err(
                        first.span,
                        format!(
                            "rate \"{}\" is 0 (flow-tools: Rate can not be 0); expected \
                             \"{kw} N\" with N >= 1 to sample one flow in N",
                            first.text
                        ),
                    ));
                }
                if !scanned.complete {
                    self.warn(
                        first.span,
                        format!("rate \"{}\" is read as {}", first.text, scanned.value),
                    );
                }
                if let Some((_, _, old_line)) = slot {
                    self.warn(
                        first.span,
                        format!("rate was already set at line {old_line}; the later setting wins"),
                    );
                }
                *slot = Some((scanned.value.unsigned_abs(), mode.permits(), line));
            }
        }
        Ok(())
    }

    fn bad_op(&self, word: &Word) -> FilterError {
        self.err(
            word.span,
            format!(
                "unknown operator \"{}\"; expected one of lt, gt, eq, ne, le, ge",
                word.text
            ),
        )
    }

    fn op_and_value<'w>(
        &self,
        first: &'w Word,
        second: Option<&'w Word>,
        kw: &str,
        what: &str,
        value: &str,
    ) -> Result<(CmpOp, &'w Word), FilterError> {
        let Some(value_word) = second else {
            return Err(self.err(
                first.span,
                format!(
                    "{what} entry \"{}\" needs an operator and a value; expected \
                     \"{kw} <lt|gt|eq|ne|le|ge> {value}\", e.g. {kw} gt {}",
                    first.text, first.text
                ),
            ));
        };
        let op = op_from_word(&first.text).ok_or_else(|| self.bad_op(first))?;
        Ok((op, value_word))
    }

    fn tag_value(&mut self, word: &Word) -> Result<u32, FilterError> {
        if word
            .text
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
        {
            let table = self.symbols.tags();
            table.value(&word.text).ok_or_else(|| {
                self.err(
                    word.span,
                    format!(
                        "unknown tag name \"{}\"; expected a number or a name from tag.sym ({})",
                        word.text,
                        table.source()
                    ),
                )
            })
        } else {
            Ok(strtoul(&word.text).value as u32)
        }
    }

    /// Warns when flow-tools' lenient address reader would read a word
    /// differently from what it looks like.
    fn check_address(&mut self, word: &Word) {
        if !is_clean_address(&word.text) {
            if let Ok(a) = scan_ip(&word.text) {
                self.warn(
                    word.span,
                    format!(
                        "\"{}\" is read as {}",
                        word.text,
                        std::net::Ipv4Addr::from(a)
                    ),
                );
            }
        }
    }

    fn definition(
        &mut self,
        d: &ast::Definition,
        primitives: &[CompiledPrimitive],
        by_name: &HashMap<String, usize>,
    ) -> Result<CompiledDefinition, FilterError> {
        let def_name = &d.name.text;
        let resolve_err = |span: Span, message: String| FilterError::Resolve {
            file: self.file.to_string(),
            span,
            definition: def_name.clone(),
            definition_span: d.keyword,
            message,
        };
        let mut groups = Vec::new();
        for group in &d.groups {
            let mut resolved = Vec::new();
            for m in group {
                let Some(&index) = by_name.get(&m.primitive.text.to_ascii_lowercase()) else {
                    return Err(resolve_err(
                        m.primitive.span,
                        format!(
                            "filter-primitive \"{}\" is not defined; expected the name of a \
                             filter-primitive in this file",
                            m.primitive.text
                        ),
                    ));
                };
                let Some(kind) = MatchKind::from_name(&m.match_type.text) else {
                    let hint = if m.match_type.text.eq_ignore_ascii_case("ip-port") {
                        " (there is no ip-port match: use src-ip-port or dst-ip-port, and `or` \
                         for either)"
                    } else {
                        ""
                    };
                    return Err(resolve_err(
                        m.match_type.span,
                        format!(
                            "unknown match type \"{}\"{hint}; expected one of {}",
                            m.match_type.text,
                            match_type_list()
                        ),
                    ));
                };
                let Some(prim) = primitives.get(index) else {
                    continue;
                };
                if matches!(prim.table, Table::Untyped) {
                    return Err(resolve_err(
                        m.primitive.span,
                        format!(
                            "filter-primitive \"{}\" (line {}) has no type; expected a \
                             \"type <primitive-type>\" line in it",
                            prim.name.text, prim.name.span.line
                        ),
                    ));
                }
                if !kind.accepts().contains(&prim.ty) {
                    let expected: Vec<&str> = kind.accepts().iter().map(|t| t.name()).collect();
                    return Err(resolve_err(
                        m.primitive.span,
                        format!(
                            "match type \"{}\" cannot use filter-primitive \"{}\" (line {}) of \
                             type {}; expected a primitive of type {}",
                            m.match_type.text,
                            prim.name.text,
                            prim.name.span.line,
                            prim.ty.name(),
                            expected.join(" or ")
                        ),
                    ));
                }
                if matches!(prim.table, Table::RateUnset) {
                    return Err(resolve_err(
                        m.primitive.span,
                        format!(
                            "filter-primitive \"{}\" (line {}) has no rate; expected a \
                             \"permit N\" line in it",
                            prim.name.text, prim.name.span.line
                        ),
                    ));
                }
                resolved.push(ResolvedMatch {
                    kind,
                    match_type: m.match_type.clone(),
                    primitive: index,
                });
            }
            groups.push(resolved);
        }
        Ok(CompiledDefinition {
            name: d.name.clone(),
            groups,
            invert: d.invert.is_some(),
        })
    }
}

/// Flattens prefixes (address already masked, length, permit) into
/// disjoint intervals, each with the verdict of its longest covering
/// prefix (or the default), merging neighbours with the same verdict.
pub(crate) fn flatten_prefixes(prefixes: &[(u32, u8, bool)], default: bool) -> PrefixTable {
    let mut by_len: Vec<HashMap<u32, bool>> = vec![HashMap::new(); 33];
    let mut bounds: Vec<u64> = vec![0];
    for &(addr, len, permit) in prefixes {
        let len = len.min(32);
        if let Some(level) = by_len.get_mut(usize::from(len)) {
            level.entry(addr).or_insert(permit);
        }
        let start = u64::from(addr);
        let size = 1u64 << (32 - u32::from(len));
        bounds.push(start);
        bounds.push(start + size);
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut starts: Vec<u32> = Vec::new();
    let mut permit: Vec<bool> = Vec::new();
    for &b in &bounds {
        let Ok(addr) = u32::try_from(b) else { continue };
        let mut verdict = default;
        for len in (0..=32u8).rev() {
            if let Some(p) = by_len[usize::from(len)].get(&(addr & len_to_mask(len))) {
                verdict = *p;
                break;
            }
        }
        if permit.last() != Some(&verdict) {
            starts.push(addr);
            permit.push(verdict);
        }
    }
    PrefixTable::new(starts, permit)
}

// ------------------------------------------------------------- to a Filter

/// Builds the runnable filter of one compiled definition.
pub(crate) fn build_filter(
    compiled: &Compiled,
    def: &CompiledDefinition,
    file: &str,
) -> Result<Filter, FilterError> {
    let mut groups = Vec::with_capacity(def.groups.len());
    for group in &def.groups {
        let mut tests = Vec::with_capacity(group.len());
        for m in group {
            if let Some(field) = m.kind.missing_in_v5() {
                return Err(FilterError::FieldNotInV5 {
                    file: file.to_string(),
                    span: m.match_type.span,
                    definition: def.name.text.clone(),
                    match_type: m.match_type.text.clone(),
                    field,
                });
            }
            let Some(prim) = compiled.primitives.get(m.primitive) else {
                continue;
            };
            if let Some(test) = make_test(m.kind, &prim.table, compiled.zone) {
                tests.push(((m.kind, m.primitive), test));
            }
        }
        groups.push(tests);
    }
    Ok(Filter::from_definition(&def.name.text, groups, def.invert))
}

fn make_test(kind: MatchKind, table: &Table, zone: Zone) -> Option<Test> {
    use MatchKind::*;
    let u8_field = match kind {
        IpProtocol => Some(U8Field::Protocol),
        IpTos => Some(U8Field::Tos),
        IpTcpFlags => Some(U8Field::TcpFlags),
        SrcPrefixLen => Some(U8Field::SrcMask),
        DstPrefixLen => Some(U8Field::DstMask),
        EngineId => Some(U8Field::EngineId),
        EngineType => Some(U8Field::EngineType),
        _ => None,
    };
    let u16_field = match kind {
        SrcPort => Some(U16Field::SrcPort),
        DstPort => Some(U16Field::DstPort),
        SrcAs => Some(U16Field::SrcAs),
        DstAs => Some(U16Field::DstAs),
        InputIf => Some(U16Field::Input),
        OutputIf => Some(U16Field::Output),
        _ => None,
    };
    let addr_field = match kind {
        SrcAddr => Some(AddrField::Src),
        DstAddr => Some(AddrField::Dst),
        ExporterAddr => Some(AddrField::Exporter),
        NextHopAddr => Some(AddrField::NextHop),
        _ => None,
    };
    let time_field = match kind {
        StartTime => Some(TimeField::Start),
        EndTime => Some(TimeField::End),
        _ => None,
    };
    Some(match table {
        Table::Bits8 { mask, bits } => Test::U8 {
            field: u8_field?,
            mask: *mask,
            bits: *bits,
        },
        Table::Bits16(bits) => Test::U16 {
            field: u16_field?,
            bits: Arc::clone(bits),
        },
        Table::Exact(set) => Test::Exact {
            field: addr_field?,
            set: Arc::clone(set),
        },
        Table::Mask(list) => Test::Mask {
            field: addr_field?,
            list: Arc::clone(list),
        },
        Table::Prefix(t) => Test::Prefix {
            field: addr_field?,
            table: Arc::clone(t),
        },
        Table::Counter(list) => match kind {
            Octets => Test::Counter {
                field: CounterField::Octets,
                list: Arc::clone(list),
            },
            Packets => Test::Counter {
                field: CounterField::Packets,
                list: Arc::clone(list),
            },
            Duration => Test::Counter {
                field: CounterField::Duration,
                list: Arc::clone(list),
            },
            // flow-tools accepts a counter for start-time but sets no
            // evaluator; we compare the start second with the counter.
            StartTime => Test::TimeDate {
                field: TimeField::Start,
                list: Arc::new(OrderedList {
                    entries: list
                        .entries
                        .iter()
                        .map(|&(o, v, p)| (o, i64::from(v), p))
                        .collect(),
                    default: list.default,
                }),
            },
            _ => return None,
        },
        Table::TimeDate(list) => Test::TimeDate {
            field: time_field?,
            list: Arc::clone(list),
        },
        Table::Time(list) => Test::TimeOfDay {
            field: time_field?,
            list: Arc::clone(list),
            zone,
        },
        Table::Double(list) => {
            let field = if kind == Bps {
                RateField::Bps
            } else {
                RateField::Pps
            };
            Test::Double {
                field,
                list: Arc::clone(list),
            }
        }
        Table::Rate { rate, hit } => Test::Sample {
            rate: *rate,
            hit: *hit,
            state: Arc::new(AtomicU64::new(1)),
        },
        Table::Tag | Table::RateUnset | Table::Untyped => return None,
    })
}

// ----------------------------------------------------------- expressions

const EXPR_FIELDS: &[(&str, ExprField)] = &[
    ("srcip", ExprField::Addr(AddrField::Src)),
    ("srcaddr", ExprField::Addr(AddrField::Src)),
    ("dstip", ExprField::Addr(AddrField::Dst)),
    ("dstaddr", ExprField::Addr(AddrField::Dst)),
    ("exporterip", ExprField::Addr(AddrField::Exporter)),
    ("exaddr", ExprField::Addr(AddrField::Exporter)),
    ("nexthop", ExprField::Addr(AddrField::NextHop)),
    ("srcport", ExprField::U16(U16Field::SrcPort)),
    ("dstport", ExprField::U16(U16Field::DstPort)),
    ("protocol", ExprField::U8(U8Field::Protocol)),
    ("prot", ExprField::U8(U8Field::Protocol)),
    ("tos", ExprField::U8(U8Field::Tos)),
    ("tcp_flags", ExprField::U8(U8Field::TcpFlags)),
    ("input_if", ExprField::U16(U16Field::Input)),
    ("output_if", ExprField::U16(U16Field::Output)),
    ("pkts", ExprField::Counter(CounterField::Packets)),
    ("packets", ExprField::Counter(CounterField::Packets)),
    ("bytes", ExprField::Counter(CounterField::Octets)),
    ("octets", ExprField::Counter(CounterField::Octets)),
    ("src_as", ExprField::U16(U16Field::SrcAs)),
    ("dst_as", ExprField::U16(U16Field::DstAs)),
    ("src_mask", ExprField::U8(U8Field::SrcMask)),
    ("dst_mask", ExprField::U8(U8Field::DstMask)),
    ("engine_id", ExprField::U8(U8Field::EngineId)),
    ("engine_type", ExprField::U8(U8Field::EngineType)),
    ("startime", ExprField::Time(TimeField::Start)),
    ("starttime", ExprField::Time(TimeField::Start)),
    ("endtime", ExprField::Time(TimeField::End)),
    ("duration", ExprField::Counter(CounterField::Duration)),
];

fn expr_err(span: Span, message: String) -> FilterError {
    FilterError::at(crate::parse::EXPR_FILE, span, message)
}

fn expr_field(name: &str, span: Span) -> Result<ExprField, FilterError> {
    EXPR_FIELDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let names: Vec<String> = EXPR_FIELDS.iter().map(|(n, _)| format!("${n}")).collect();
            expr_err(
                span,
                format!(
                    "unknown field \"${name}\"; expected one of {}",
                    names.join(" ")
                ),
            )
        })
}

enum Const {
    Number(i64),
    Address { addr: u32, len: Option<u8> },
}

fn expr_const(operand: &Operand, span: Span) -> Result<Const, FilterError> {
    match operand {
        Operand::Number(text) => {
            let lower = text.to_ascii_lowercase();
            let parsed = match lower.strip_prefix("0x") {
                Some(hex) => i64::from_str_radix(hex, 16),
                None => lower.parse::<i64>(),
            };
            parsed.map(Const::Number).map_err(|_| {
                expr_err(
                    span,
                    format!("number \"{text}\" is too large; expected at most 2^63-1"),
                )
            })
        }
        Operand::Address(text) => {
            let (addr_text, len) = match text.split_once('/') {
                Some((a, l)) => {
                    let len = l.parse::<u8>().ok().filter(|l| *l <= 32).ok_or_else(|| {
                        expr_err(
                            span,
                            format!("bad prefix length in \"{text}\"; expected /0 to /32"),
                        )
                    })?;
                    (a, Some(len))
                }
                None => (text.as_str(), None),
            };
            if addr_text.split('.').count() != 4 || !is_clean_address(addr_text) {
                return Err(expr_err(
                    span,
                    format!("bad address \"{text}\"; expected a dotted quad such as 10.0.0.1 or 10.0.0.0/8"),
                ));
            }
            let addr = scan_ip(addr_text).map_err(|m| expr_err(span, m))?;
            Ok(Const::Address { addr, len })
        }
        Operand::Text(text) => Err(expr_err(
            span,
            format!("unexpected \"{text}\"; expected a number, an address or a $field"),
        )),
        Operand::Field(_) => Err(expr_err(
            span,
            "internal: field is not a constant".to_string(),
        )),
    }
}

/// Compiles an inline expression AST.
pub(crate) fn compile_expr_ast(expr: &Expr) -> Result<ExprNode, FilterError> {
    Ok(match expr {
        Expr::Or(items) => ExprNode::Or(
            items
                .iter()
                .map(compile_expr_ast)
                .collect::<Result<_, _>>()?,
        ),
        Expr::And(items) => ExprNode::And(
            items
                .iter()
                .map(compile_expr_ast)
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(e) => ExprNode::Not(Box::new(compile_expr_ast(e)?)),
        Expr::Compare { left, op, right } => {
            let (op, op_span) = *op;
            match (&left.0, &right.0) {
                (Operand::Field(a), Operand::Field(b)) => ExprNode::CmpFields {
                    left: expr_field(a, left.1)?,
                    op,
                    right: expr_field(b, right.1)?,
                },
                (Operand::Field(f), _) => comparison(
                    expr_field(f, left.1)?,
                    op,
                    op_span,
                    expr_const(&right.0, right.1)?,
                    right.1,
                )?,
                (_, Operand::Field(f)) => comparison(
                    expr_field(f, right.1)?,
                    op.swapped(),
                    op_span,
                    expr_const(&left.0, left.1)?,
                    left.1,
                )?,
                _ => {
                    return Err(expr_err(
                        left.1,
                        "this comparison has no $field; expected a $field on one side".to_string(),
                    ))
                }
            }
        }
    })
}

fn comparison(
    field: ExprField,
    op: CmpOp,
    op_span: Span,
    value: Const,
    value_span: Span,
) -> Result<ExprNode, FilterError> {
    match value {
        Const::Number(value) => Ok(ExprNode::Cmp { field, op, value }),
        Const::Address { addr, len } => {
            let ExprField::Addr(addr_field) = field else {
                return Err(expr_err(
                    value_span,
                    "an address can only be compared with $srcip, $dstip, $exporterip or \
                     $nexthop; expected a number here"
                        .to_string(),
                ));
            };
            match len {
                None => Ok(ExprNode::Cmp {
                    field,
                    op,
                    value: i64::from(addr),
                }),
                Some(len) => {
                    let inside = match op {
                        CmpOp::Eq => true,
                        CmpOp::Ne => false,
                        _ => {
                            return Err(expr_err(
                                op_span,
                                "a prefix can only be tested with eq/== or ne/!=; expected one of those"
                                    .to_string(),
                            ))
                        }
                    };
                    let mask = len_to_mask(len);
                    Ok(ExprNode::InPrefix {
                        field: addr_field,
                        addr: addr & mask,
                        mask,
                        inside,
                    })
                }
            }
        }
    }
}
