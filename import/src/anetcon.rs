//! anetcon (github dealfonso/anetcon, spec §4): kernel LOG lines from
//! Neutron router namespaces whose prefix says what they are.
//!
//! 2021–2024-06: `[ANETCON] [NAT] ` / `[ANETCON] [FLOAT] `;
//! from 2024-06-27: `[ANETCON][X][<hash>] ` / `[ANETCON][D][<hash>] `, where
//! `<hash>` is the first 8 hex digits of md5(namespace name), absent for the
//! root namespace, mapped back by `/var/lib/anetcon/namespace.hash`
//! (`<namespace> [<hash>]` lines, see [`NamespaceMap`]).

/// What an anetcon line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Old format, `[NAT]`: outbound through SNAT (SRC = fixed inside IP).
    NatOld,
    /// Old format, `[FLOAT]`: inbound to a floating IP (DST = fixed IP).
    FloatOld,
    /// New format, `[X]`: not DNAT (outbound/other).
    OtherNew,
    /// New format, `[D]`: DNAT (floating IP / port forward).
    DnatNew,
}

impl Kind {
    /// Report label.
    pub fn label(&self) -> &'static str {
        match self {
            Kind::NatOld => "NAT (old style)",
            Kind::FloatOld => "FLOAT (old style)",
            Kind::OtherNew => "NAT/other (new style)",
            Kind::DnatNew => "DNAT (new style)",
        }
    }

    /// The v5 `engine_type` tag (spec §6.4): 0xC4 old format, 0xC5 new.
    pub fn engine_type(&self) -> u8 {
        match self {
            Kind::NatOld | Kind::FloatOld => 0xC4,
            Kind::OtherNew | Kind::DnatNew => 0xC5,
        }
    }

    /// True when the inside host is the destination (DNAT/FLOAT lines).
    pub fn inside_is_destination(&self) -> bool {
        matches!(self, Kind::FloatOld | Kind::DnatNew)
    }
}

/// Classifies a LOG prefix: kind and the namespace hash (8 hex digits) if
/// present. `None`: not an anetcon prefix.
pub fn classify(prefix: &[u8]) -> Option<(Kind, Option<[u8; 8]>)> {
    match prefix {
        b"[ANETCON] [NAT] " => return Some((Kind::NatOld, None)),
        b"[ANETCON] [FLOAT] " => return Some((Kind::FloatOld, None)),
        _ => {}
    }
    let r = prefix.strip_prefix(b"[ANETCON][")?;
    let kind = match r.first()? {
        b'X' => Kind::OtherNew,
        b'D' => Kind::DnatNew,
        _ => return None,
    };
    let r = r.get(1..)?.strip_prefix(b"]")?;
    if r == b" " {
        return Some((kind, None));
    }
    let h = r.strip_prefix(b"[")?.strip_suffix(b"] ")?;
    if h.len() != 8
        || !h
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    {
        return None;
    }
    let mut out = [0u8; 8];
    out.copy_from_slice(h);
    Some((kind, Some(out)))
}

/// Namespace hash -> namespace name, in file order (index 1.. goes into
/// `engine_id`; 0 is the root namespace, 127 an unknown hash).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamespaceMap {
    entries: Vec<([u8; 8], String)>,
}

impl NamespaceMap {
    /// Parses `namespace.hash` text (`<namespace> [<hash>]` per line);
    /// lines that do not fit are skipped and counted.
    pub fn parse(text: &str) -> (NamespaceMap, usize) {
        let mut m = NamespaceMap::default();
        let mut bad = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut it = line.split_whitespace();
            let (Some(name), Some(h), None) = (it.next(), it.next(), it.next()) else {
                bad += 1;
                continue;
            };
            let h = h.trim_start_matches('[').trim_end_matches(']').as_bytes();
            if h.len() != 8 {
                bad += 1;
                continue;
            }
            let mut k = [0u8; 8];
            k.copy_from_slice(h);
            m.entries.push((k, name.to_string()));
        }
        (m, bad)
    }

    /// (index, name) of a hash; unknown hashes give `(127, "unknown [HASH]")`.
    pub fn lookup(&self, hash: Option<&[u8; 8]>) -> (u8, String) {
        let Some(h) = hash else {
            return (0, "default namespace".to_string());
        };
        match self.entries.iter().position(|(k, _)| k == h) {
            Some(i) if i < 126 => (i as u8 + 1, self.entries[i].1.clone()),
            _ => (127, format!("unknown [{}]", String::from_utf8_lossy(h))),
        }
    }

    /// Number of known namespaces.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no namespace is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(classify(b"[ANETCON] [NAT] "), Some((Kind::NatOld, None)));
        assert_eq!(
            classify(b"[ANETCON][D][39d26007] "),
            Some((Kind::DnatNew, Some(*b"39d26007")))
        );
        assert_eq!(classify(b"[ANETCON][X] "), Some((Kind::OtherNew, None)));
        assert_eq!(classify(b"[ANETCON][X][39d2600] "), None);
        assert_eq!(classify(b"New Connection: "), None);
    }

    #[test]
    fn namespace_file() {
        let (m, bad) = NamespaceMap::parse("qrouter-a [39d26007]\nbroken\n");
        assert_eq!((m.len(), bad), (1, 1));
        assert_eq!(m.lookup(Some(b"39d26007")), (1, "qrouter-a".to_string()));
        assert_eq!(m.lookup(None).0, 0);
        assert_eq!(m.lookup(Some(b"ffffffff")).0, 127);
    }
}
