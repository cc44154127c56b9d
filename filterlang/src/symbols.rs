//! Symbol tables (flow-tools `ftsym`): number <-> name for IP protocols,
//! TCP/UDP ports, AS numbers and tags.
//!
//! Files are `<value><blanks><name>` per line, `#` comments, values in C
//! `strtoul` base 0. Value -> name: the last line for a value wins. Name ->
//! value: case-insensitive, looked up among the *final* names only, so a
//! name whose value was later given another name is not found (`esp` in
//! ip-prot.sym). When two values carry the same name, the value that first
//! appeared in the file wins.
//!
//! [`Symbols::load`] reads `ip-prot.sym`, `tcp-port.sym`, `asn.sym` (or
//! `asn.sym.gz`) and `tag.sym` from a directory (default: the
//! `FLOWTOOLS_SYMDIR` environment variable). Protocols and ports fall back
//! to copies of flow-tools' tables built into the crate, so names like
//! `tcp` and `smtp` work with no flow-tools installation.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::FilterError;
use crate::number::strtoul;

const BUILTIN_IP_PROT: &str = include_str!("sym/ip-prot.sym");
const BUILTIN_TCP_PORT: &str = include_str!("sym/tcp-port.sym");

/// The environment variable naming the symbol directory.
pub const SYMDIR_ENV: &str = "FLOWTOOLS_SYMDIR";

/// One symbol table: number <-> name with flow-tools' lookup rules.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    by_value: HashMap<u32, Box<str>>,
    by_name: HashMap<String, u32>,
    /// Names that appear in the file but were overridden later, for hints.
    shadowed: HashMap<String, u32>,
    source: String,
}

impl SymbolTable {
    /// Parses a symbol file's text; `source` names it in errors and hints.
    pub fn parse(text: &str, source: &str) -> Result<SymbolTable, FilterError> {
        // (value, name) in file order
        let mut order: Vec<u32> = Vec::new();
        let mut by_value: HashMap<u32, Box<str>> = HashMap::new();
        let mut all_names: Vec<(String, u32)> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let value_end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
            let (value_text, rest) = trimmed.split_at(value_end);
            let name = rest.trim();
            if name.is_empty() {
                return Err(FilterError::SymbolFile {
                    path: source.to_string(),
                    line: index + 1,
                    message: format!(
                        "missing field: \"{value_text}\" has no name; expected \"<number> <name>\""
                    ),
                });
            }
            let value = strtoul(value_text).value as u32;
            if !by_value.contains_key(&value) {
                order.push(value);
            }
            by_value.insert(value, name.into());
            all_names.push((name.to_ascii_lowercase(), value));
        }
        let mut by_name = HashMap::new();
        for value in &order {
            if let Some(name) = by_value.get(value) {
                by_name.entry(name.to_ascii_lowercase()).or_insert(*value);
            }
        }
        let mut shadowed = HashMap::new();
        for (name, value) in all_names {
            if !by_name.contains_key(&name) {
                shadowed.entry(name).or_insert(value);
            }
        }
        Ok(SymbolTable {
            by_value,
            by_name,
            shadowed,
            source: source.to_string(),
        })
    }

    /// The name of `value` (the last line for it wins).
    pub fn name(&self, value: u32) -> Option<&str> {
        self.by_value.get(&value).map(|s| &**s)
    }

    /// The value of `name`, case-insensitive, by flow-tools' rules.
    pub fn value(&self, name: &str) -> Option<u32> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// When `name` is in the file but its value was later renamed, that
    /// value (so errors can explain why the name is not found).
    pub fn shadowed_value(&self, name: &str) -> Option<u32> {
        self.shadowed.get(&name.to_ascii_lowercase()).copied()
    }

    /// Where the table came from (a path, or `built-in ...`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.by_value.len()
    }

    /// `true` when the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.by_value.is_empty()
    }
}

/// The four symbol tables filters and reports use.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    protocols: SymbolTable,
    ports: SymbolTable,
    asns: SymbolTable,
    tags: SymbolTable,
}

impl Symbols {
    /// No symbols at all: every name lookup fails.
    pub fn empty() -> Symbols {
        Symbols::default()
    }

    /// The built-in protocol and port tables (copies of flow-tools'
    /// ip-prot.sym and tcp-port.sym); no AS or tag names.
    pub fn builtin() -> Symbols {
        Symbols {
            protocols: SymbolTable::parse(BUILTIN_IP_PROT, "built-in ip-prot.sym")
                .unwrap_or_default(),
            ports: SymbolTable::parse(BUILTIN_TCP_PORT, "built-in tcp-port.sym")
                .unwrap_or_default(),
            asns: SymbolTable::default(),
            tags: SymbolTable::default(),
        }
    }

    /// Loads the tables from `dir`, or from `$FLOWTOOLS_SYMDIR` when `dir`
    /// is `None`. A missing file (or no directory at all) falls back to
    /// the built-in table for protocols and ports and to an empty table
    /// for AS numbers and tags. `asn.sym.gz` is read when `asn.sym` is
    /// absent. A file that exists but cannot be read or is malformed is an
    /// error.
    pub fn load(dir: Option<&Path>) -> Result<Symbols, FilterError> {
        let env_dir = std::env::var_os(SYMDIR_ENV).map(PathBuf::from);
        let dir = dir.map(Path::to_path_buf).or(env_dir);
        let mut symbols = Symbols::builtin();
        let Some(dir) = dir else { return Ok(symbols) };
        if let Some(t) = load_file(&dir.join("ip-prot.sym"))? {
            symbols.protocols = t;
        }
        if let Some(t) = load_file(&dir.join("tcp-port.sym"))? {
            symbols.ports = t;
        }
        if let Some(t) = load_file(&dir.join("asn.sym"))? {
            symbols.asns = t;
        } else if let Some(t) = load_file(&dir.join("asn.sym.gz"))? {
            symbols.asns = t;
        }
        if let Some(t) = load_file(&dir.join("tag.sym"))? {
            symbols.tags = t;
        }
        Ok(symbols)
    }

    /// Replaces the protocol table.
    pub fn with_protocols(mut self, table: SymbolTable) -> Symbols {
        self.protocols = table;
        self
    }

    /// Replaces the port table.
    pub fn with_ports(mut self, table: SymbolTable) -> Symbols {
        self.ports = table;
        self
    }

    /// Replaces the AS table.
    pub fn with_asns(mut self, table: SymbolTable) -> Symbols {
        self.asns = table;
        self
    }

    /// Replaces the tag table.
    pub fn with_tags(mut self, table: SymbolTable) -> Symbols {
        self.tags = table;
        self
    }

    /// Name of IP protocol `value` (ip-prot.sym), e.g. `tcp` for 6.
    pub fn proto_name(&self, value: u8) -> Option<&str> {
        self.protocols.name(u32::from(value))
    }

    /// Name of TCP/UDP port `value` (tcp-port.sym), e.g. `smtp` for 25.
    pub fn port_name(&self, value: u16) -> Option<&str> {
        self.ports.name(u32::from(value))
    }

    /// Name of AS `value` (asn.sym).
    pub fn as_name(&self, value: u16) -> Option<&str> {
        self.asns.name(u32::from(value))
    }

    /// Name of tag `value` (tag.sym).
    pub fn tag_name(&self, value: u32) -> Option<&str> {
        self.tags.name(value)
    }

    /// The ip-prot.sym table.
    pub fn protocols(&self) -> &SymbolTable {
        &self.protocols
    }

    /// The tcp-port.sym table.
    pub fn ports(&self) -> &SymbolTable {
        &self.ports
    }

    /// The asn.sym table.
    pub fn asns(&self) -> &SymbolTable {
        &self.asns
    }

    /// The tag.sym table (flow-tools also uses it for names in `as`
    /// primitives).
    pub fn tags(&self) -> &SymbolTable {
        &self.tags
    }
}

/// Reads one symbol file; `Ok(None)` when it does not exist.
fn load_file(path: &Path) -> Result<Option<SymbolTable>, FilterError> {
    let display = path.display().to_string();
    let io_err = |e: std::io::Error| FilterError::SymbolFile {
        path: display.clone(),
        line: 0,
        message: format!("cannot read: {e}"),
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    let bytes = if path.extension().is_some_and(|x| x == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(io_err)?;
        out
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes);
    SymbolTable::parse(&text, &display).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_line_wins_for_value_to_name() {
        let s = Symbols::builtin();
        assert_eq!(s.proto_name(6), Some("tcp"));
        assert_eq!(s.proto_name(50), Some("ipv6-crypt"));
        assert_eq!(s.proto_name(0), Some("hopopt"));
        assert_eq!(s.port_name(25), Some("smtp"));
    }

    #[test]
    fn renamed_names_are_not_found_but_are_remembered() {
        let s = Symbols::builtin();
        assert_eq!(s.protocols().value("TCP"), Some(6));
        assert_eq!(s.protocols().value("esp"), None);
        assert_eq!(s.protocols().shadowed_value("esp"), Some(50));
        assert_eq!(s.protocols().value("ipv6-crypt"), Some(50));
        assert_eq!(s.ports().value("smtp"), Some(25));
        assert_eq!(s.ports().value("ms"), None);
    }

    #[test]
    fn duplicate_names_resolve_to_the_first_value() {
        let t = SymbolTable::parse("4 echo\n7 echo\n", "t").unwrap();
        assert_eq!(t.value("echo"), Some(4));
    }

    #[test]
    fn hex_values_comments_and_trailing_blanks() {
        let t = SymbolTable::parse("  # c\n0x10 Sixteen  \n\n 0x0A  OHIOU\n", "t").unwrap();
        assert_eq!(t.name(16), Some("Sixteen"));
        assert_eq!(t.value("ohiou"), Some(10));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn missing_field_is_an_error_with_the_line() {
        let e = SymbolTable::parse("1 a\n2\n", "x.sym").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.sym:2: missing field: \"2\" has no name; expected \"<number> <name>\""
        );
    }

    #[test]
    fn load_reads_a_directory_and_gzipped_asn() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ip-prot.sym"), "6 tcpish\n").unwrap();
        let gz = {
            use std::io::Write as _;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(b"64501 EXAMPLE-AS\n").unwrap();
            enc.finish().unwrap()
        };
        std::fs::write(dir.path().join("asn.sym.gz"), gz).unwrap();
        let s = Symbols::load(Some(dir.path())).unwrap();
        assert_eq!(s.proto_name(6), Some("tcpish"));
        assert_eq!(s.proto_name(17), None);
        assert_eq!(
            s.port_name(25),
            Some("smtp"),
            "ports fall back to the built-in table"
        );
        assert_eq!(s.as_name(64501), Some("EXAMPLE-AS"));
    }

    #[test]
    fn golden_asn_table_loads() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/flowtools-sym");
        assert!(
            Path::new(dir).is_dir(),
            "testdata/flowtools-sym missing: run from a full clone of the repository"
        );
        let s = Symbols::load(Some(Path::new(dir))).unwrap();
        assert_eq!(s.as_name(3), Some("MIT-GATEWAYS"));
        assert_eq!(s.tags().value("osu"), Some(1));
    }
}
