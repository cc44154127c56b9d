//! Variable expansion (flow-tools `ftvar`): runs on every line before
//! anything else, comments included.
//!
//! * `@NAME` — NAME is the longest run of ASCII alphanumerics (possibly
//!   empty, so a lone `@` simply disappears); replaced by the value or by
//!   nothing.
//! * `@{NAME}` — the same, braced.
//! * `@{NAME:-default}` — `default` when NAME is unset.
//!
//! Names are case-sensitive; the last binding of a name wins; an empty
//! value counts as unset. An unclosed `@{` is an error, as is a brace
//! whose name is followed by anything but `}` or `:-`.

/// One line after expansion, with the original byte offset of every byte
/// of the expanded text (substituted text maps to its `@`), so that
/// positions in errors refer to the line as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Expanded {
    /// The expanded text.
    pub text: String,
    /// `origin[i]` is the byte offset in the original line of expanded
    /// byte `i`; one extra entry maps the end of the text.
    pub origin: Vec<usize>,
}

/// Why a line could not be expanded: byte offset of the `@` and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VarError {
    /// Byte offset in the original line.
    pub offset: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// Looks a variable up: the last binding wins, empty values are unset.
fn lookup<'v>(vars: &'v [(String, String)], name: &str) -> Option<&'v str> {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Expands the variables of one line.
pub(crate) fn expand_line(line: &str, vars: &[(String, String)]) -> Result<Expanded, VarError> {
    let bytes = line.as_bytes();
    let mut text = String::with_capacity(line.len());
    let mut origin = Vec::with_capacity(line.len() + 1);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'@' {
            // Copy one whole character.
            let ch_len = line[i..].chars().next().map_or(1, char::len_utf8);
            text.push_str(&line[i..i + ch_len]);
            origin.resize(origin.len() + ch_len, i);
            i += ch_len;
            continue;
        }
        let at = i;
        let start = i + 1;
        let (name, default, end) = if bytes.get(start) == Some(&b'{') {
            let Some(close_rel) = line[start..].find('}') else {
                return Err(VarError {
                    offset: at,
                    message: format!(
                        "unclosed variable \"@{}\"; expected a closing \"}}\"",
                        &line[start..]
                    ),
                });
            };
            let close = start + close_rel;
            let inner = &line[start + 1..close];
            let name_len = inner.bytes().take_while(u8::is_ascii_alphanumeric).count();
            let name = &inner[..name_len];
            let rest = &inner[name_len..];
            if rest.is_empty() {
                (name, None, close + 1)
            } else if let Some(after_colon) = rest.strip_prefix(':') {
                match after_colon.strip_prefix('-') {
                    Some(default) => (name, Some(default), close + 1),
                    None => {
                        return Err(VarError {
                            offset: at,
                            message: format!(
                                "bad variable \"@{{{inner}}}\": expected \":-\" after the name \
                                 \"{name}\" (the only form is @{{NAME:-default}})"
                            ),
                        })
                    }
                }
            } else {
                return Err(VarError {
                    offset: at,
                    message: format!(
                        "bad variable \"@{{{inner}}}\": expected \"}}\" or \":-default\" after \
                         the name \"{name}\" (names are letters and digits only)"
                    ),
                });
            }
        } else {
            let name_len = bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            (&line[start..start + name_len], None, start + name_len)
        };
        let value = lookup(vars, name).or(default).unwrap_or("");
        text.push_str(value);
        origin.resize(origin.len() + value.len(), at);
        i = end;
    }
    origin.push(line.len());
    Ok(Expanded { text, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn expand(line: &str, v: &[(&str, &str)]) -> String {
        expand_line(line, &vars(v))
            .map(|e| e.text)
            .unwrap_or_else(|e| format!("ERR {}", e.message))
    }

    #[test]
    fn plain_name_ends_at_first_non_alphanumeric() {
        assert_eq!(expand("permit @PORT,80", &[("PORT", "25")]), "permit 25,80");
        assert_eq!(expand("permit @PORT_X", &[("PORT", "25")]), "permit 25_X");
    }

    #[test]
    fn unset_variable_expands_to_nothing() {
        assert_eq!(expand("  permit @NOSUCHVAR", &[]), "  permit ");
        assert_eq!(expand("mail user@host", &[]), "mail user");
        assert_eq!(expand("a @ b", &[]), "a  b");
    }

    #[test]
    fn braces_and_defaults() {
        assert_eq!(expand("@{PORT:-25}", &[]), "25");
        assert_eq!(expand("@{PORT:-25}", &[("PORT", "53")]), "53");
        assert_eq!(expand("x@{P}y", &[("P", "1")]), "x1y");
        assert_eq!(expand("@{P:-}", &[]), "");
    }

    #[test]
    fn names_are_case_sensitive_last_binding_wins_and_empty_is_unset() {
        assert_eq!(expand("@port", &[("PORT", "1")]), "");
        assert_eq!(expand("@P", &[("P", "1"), ("P", "2")]), "2");
        assert_eq!(expand("@{P:-d}", &[("P", "")]), "d");
    }

    #[test]
    fn unclosed_brace_is_an_error_at_the_at_sign() {
        let err = expand_line("# mail @{oops", &[]).unwrap_err();
        assert_eq!(err.offset, 7);
        assert!(err.message.contains("\"@{oops\""), "{}", err.message);
        assert!(
            err.message.contains("expected a closing \"}\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_brace_forms_are_errors() {
        assert!(expand("@{A-b}", &[]).starts_with("ERR"));
        assert!(expand("@{A:b}", &[]).starts_with("ERR"));
        assert!(expand("@{A_B}", &[]).starts_with("ERR"));
    }

    #[test]
    fn origin_maps_substituted_text_to_the_at_sign() {
        let e = expand_line("ab @X cd", &vars(&[("X", "123")])).unwrap();
        assert_eq!(e.text, "ab 123 cd");
        assert_eq!(e.origin, vec![0, 1, 2, 3, 3, 3, 5, 6, 7, 8]);
    }

    #[test]
    fn multibyte_text_is_copied_whole() {
        let e = expand_line("é@X", &vars(&[("X", "1")])).unwrap();
        assert_eq!(e.text, "é1");
        assert_eq!(e.origin, vec![0, 0, 2, 4]);
    }
}
