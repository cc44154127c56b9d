//! Value -> name tables for `-n` (flow-tools `ftsym`, spec §9.3).
//!
//! Private to flow-stat for now: `filterlang::Symbols` only exposes the
//! protocol, port and AS tables, and formats 1-3 (faithfully to flow-tools'
//! `chash_c32_dump`) look values up in `tag.sym`. Tables are read from
//! `$FLOWTOOLS_SYMDIR/<name>.sym`; without the variable, or when the file
//! is missing or malformed, the table is absent and keys print as numbers
//! (as flow-tools does when `ftsym_new` fails).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Which symbol file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymFile {
    /// `ip-prot.sym`
    IpProt,
    /// `tcp-port.sym`
    TcpPort,
    /// `asn.sym`
    Asn,
    /// `tag.sym`
    Tag,
}

impl SymFile {
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            SymFile::IpProt => "ip-prot.sym",
            SymFile::TcpPort => "tcp-port.sym",
            SymFile::Asn => "asn.sym",
            SymFile::Tag => "tag.sym",
        }
    }
}

/// A loaded value -> name table.
#[derive(Clone, Debug, Default)]
pub struct SymTable {
    names: HashMap<u32, String>,
}

impl SymTable {
    /// Loads `file` from `$FLOWTOOLS_SYMDIR`; `None` when unavailable.
    pub fn load(file: SymFile) -> Option<SymTable> {
        let dir = std::env::var_os("FLOWTOOLS_SYMDIR")?;
        Self::load_from(&PathBuf::from(dir).join(file.file_name()))
    }

    /// Loads a symbol file; `None` when unreadable or malformed.
    pub fn load_from(path: &Path) -> Option<SymTable> {
        let bytes = std::fs::read(path).ok()?;
        Self::parse(&String::from_utf8_lossy(&bytes))
    }

    /// Parses symbol-file text. The last line for a value wins; a line with
    /// a value but no name makes the whole table unusable (flow-tools'
    /// `Missing field`).
    pub fn parse(text: &str) -> Option<SymTable> {
        let mut names = HashMap::new();
        for line in text.lines() {
            let line = line.trim_start_matches([' ', '\t']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let split = line.find([' ', '\t']);
            let (value, rest) = match split {
                Some(i) => (&line[..i], &line[i..]),
                None => (line, ""),
            };
            let name = rest.trim_matches(|c: char| c.is_ascii_whitespace());
            if name.is_empty() {
                return None;
            }
            names.insert(strtoul0(value), name.to_string());
        }
        Some(SymTable { names })
    }

    /// The name of `value`, if any.
    pub fn name(&self, value: u32) -> Option<&str> {
        self.names.get(&value).map(String::as_str)
    }
}

/// C `strtoul(s, NULL, 0)` truncated to 32 bits: optional `0x` (hex) or
/// leading `0` (octal), digits up to the first invalid character.
fn strtoul0(s: &str) -> u32 {
    let b = s.as_bytes();
    let (radix, digits) = if b.len() > 2 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (16, &s[2..])
    } else if b.len() > 1 && b[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut v: u64 = 0;
    for c in digits.chars() {
        match c.to_digit(radix) {
            Some(d) => v = v.saturating_mul(radix as u64).saturating_add(d as u64),
            None => break,
        }
    }
    v.min(u64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_definition_of_a_value_wins_and_hex_values_parse() {
        let t = SymTable::parse("# c\n50 esp\n50\tipv6-crypt  \n0x0A  ten words\n").unwrap();
        assert_eq!(t.name(50), Some("ipv6-crypt"));
        assert_eq!(t.name(10), Some("ten words"));
        assert_eq!(t.name(11), None);
    }

    #[test]
    fn a_line_without_a_name_invalidates_the_table() {
        assert!(SymTable::parse("1 a\n2\n").is_none());
    }
}
