//! Text -> AST. The only module that names pest's `Rule` and `Pair`.
//!
//! filter.cfg is parsed a line at a time: variables are expanded first
//! (`vars.rs`), the expanded line is matched against `grammar.pest`'s
//! `line` rule, and the section structure (which keyword may appear where,
//! names, how many words a keyword takes) is checked here. What the words
//! mean (types, values, symbols) is `compile.rs`'s business.

use pest::iterators::Pair;
use pest::Parser as _;

use crate::ast::{self, CmpOp, Config, Definition, Expr, Item, Mode, Operand, Primitive, Word};
use crate::error::{FilterError, Span};
use crate::vars;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

/// One source line after variable expansion, with what is needed to map
/// byte offsets of the expanded text back to columns of the original.
struct LineCtx<'a> {
    number: usize,
    original: &'a str,
    expanded: vars::Expanded,
}

impl LineCtx<'_> {
    /// Span of byte `offset` of the expanded text.
    fn span(&self, offset: usize) -> Span {
        let orig = self
            .expanded
            .origin
            .get(offset)
            .copied()
            .unwrap_or(self.original.len());
        let orig = orig.min(self.original.len());
        let col = self
            .original
            .get(..orig)
            .map_or(orig, |s| s.chars().count())
            + 1;
        Span::new(self.number, col)
    }
}

/// What a config line says, before the section rules are applied.
enum Statement {
    PrimitiveHeader,
    DefinitionHeader,
    Type,
    Entry(Mode),
    Default,
    Mask,
    Match,
    Or,
    Invert,
    Unknown,
}

/// The section the parser is in.
#[derive(Clone, Copy)]
enum Section {
    None,
    Primitive(usize),
    Definition(usize),
}

/// Parses a whole filter.cfg text: expands variables, then builds the AST.
pub(crate) fn parse_config(
    text: &str,
    file: &str,
    variables: &[(String, String)],
) -> Result<Config, FilterError> {
    let mut builder = ConfigBuilder {
        file,
        config: Config::default(),
        section: Section::None,
        had_variable: false,
    };
    let mut new_group = true;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let original = raw.strip_suffix('\r').unwrap_or(raw);
        if original.is_empty() {
            continue;
        }
        let expanded = vars::expand_line(original, variables).map_err(|e| {
            let col = original
                .get(..e.offset)
                .map_or(e.offset, |s| s.chars().count())
                + 1;
            FilterError::at(file, Span::new(number, col), e.message)
        })?;
        let ctx = LineCtx {
            number,
            original,
            expanded,
        };
        let text = ctx.expanded.text.as_str();
        let pairs = Grammar::parse(Rule::line, text).map_err(|e| {
            let offset = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((p, _)) => p,
            };
            FilterError::at(file, ctx.span(offset), "cannot split this line into words")
        })?;
        let Some(line) = pairs.into_iter().next() else {
            continue;
        };
        let Some(stmt) = line.into_inner().find(|p| p.as_rule() != Rule::EOI) else {
            continue;
        };
        let kind = match stmt.as_rule() {
            Rule::comment => continue,
            Rule::primitive_header => Statement::PrimitiveHeader,
            Rule::definition_header => Statement::DefinitionHeader,
            Rule::type_stmt => Statement::Type,
            Rule::permit_stmt => Statement::Entry(Mode::Permit),
            Rule::deny_stmt => Statement::Entry(Mode::Deny),
            Rule::default_stmt => Statement::Default,
            Rule::mask_stmt => Statement::Mask,
            Rule::match_stmt => Statement::Match,
            Rule::or_stmt => Statement::Or,
            Rule::invert_stmt => Statement::Invert,
            _ => Statement::Unknown,
        };
        let mut inner = stmt.into_inner();
        let keyword_pair = inner.next();
        let keyword = match &keyword_pair {
            Some(p) => Word {
                text: p.as_str().to_string(),
                span: ctx.span(p.as_span().start()),
            },
            None => continue,
        };
        let args: Vec<Word> = inner
            .filter(|p| p.as_rule() == Rule::args)
            .flat_map(|p| p.into_inner())
            .filter(|p| p.as_rule() == Rule::word)
            .map(|p| Word {
                text: p.as_str().to_string(),
                span: ctx.span(p.as_span().start()),
            })
            .collect();
        let rest_after_first = rest_after_first(&ctx, &args);
        builder.had_variable = original.contains('@');
        builder.statement(kind, keyword, args, rest_after_first, &mut new_group)?;
    }
    Ok(builder.config)
}

/// The raw text from the second argument word to the end of the line
/// (trailing blanks trimmed), spanned at that word.
fn rest_after_first(ctx: &LineCtx<'_>, args: &[Word]) -> Option<Word> {
    let second = args.get(1)?;
    let text = ctx.expanded.text.as_str();
    let blank = |c: char| c == ' ' || c == '\t';
    // Skip the keyword and the first argument: two words and their blanks.
    let mut rest = text.trim_start_matches(blank);
    for _ in 0..2 {
        rest = rest
            .trim_start_matches(|c: char| !blank(c))
            .trim_start_matches(blank);
    }
    let rest = rest.trim_end_matches(blank);
    (!rest.is_empty()).then(|| Word {
        text: rest.to_string(),
        span: second.span,
    })
}

struct ConfigBuilder<'f> {
    file: &'f str,
    config: Config,
    section: Section,
    /// The current line had a variable before expansion.
    had_variable: bool,
}

impl ConfigBuilder<'_> {
    fn err(&self, span: Span, message: impl Into<String>) -> FilterError {
        FilterError::at(self.file, span, message)
    }

    fn unexpected_extra(&self, keyword: &Word, extra: &Word, what: &str) -> FilterError {
        self.err(
            extra.span,
            format!(
                "unexpected \"{}\" after {} \"{}\"; expected the end of the line",
                extra.text, what, keyword.text
            ),
        )
    }

    fn primitive_mut(&mut self, index: usize) -> Option<&mut Primitive> {
        match self.config.items.get_mut(index) {
            Some(Item::Primitive(p)) => Some(p),
            _ => None,
        }
    }

    fn definition_mut(&mut self, index: usize) -> Option<&mut Definition> {
        match self.config.items.get_mut(index) {
            Some(Item::Definition(d)) => Some(d),
            _ => None,
        }
    }

    fn expected_here(&self) -> &'static str {
        match self.section {
            Section::None => "expected filter-primitive or filter-definition",
            Section::Primitive(_) => {
                "expected one of type, permit, deny, default, mask (inside a filter-primitive), \
                 or filter-primitive, filter-definition"
            }
            Section::Definition(_) => {
                "expected one of match, or, invert (inside a filter-definition), \
                 or filter-primitive, filter-definition"
            }
        }
    }

    fn where_here(&self) -> String {
        match self.section {
            Section::None => "outside any filter-primitive or filter-definition".to_string(),
            Section::Primitive(i) => match self.config.items.get(i) {
                Some(Item::Primitive(p)) => format!("in filter-primitive \"{}\"", p.name.text),
                _ => String::new(),
            },
            Section::Definition(i) => match self.config.items.get(i) {
                Some(Item::Definition(d)) => format!("in filter-definition \"{}\"", d.name.text),
                _ => String::new(),
            },
        }
    }

    fn misplaced(&self, keyword: &Word) -> FilterError {
        self.err(
            keyword.span,
            format!(
                "unexpected \"{}\" {}; {}",
                keyword.text,
                self.where_here(),
                self.expected_here()
            ),
        )
    }

    fn statement(
        &mut self,
        kind: Statement,
        keyword: Word,
        args: Vec<Word>,
        rest_after_first: Option<Word>,
        new_group: &mut bool,
    ) -> Result<(), FilterError> {
        match kind {
            Statement::PrimitiveHeader | Statement::DefinitionHeader => {
                let primitive = matches!(kind, Statement::PrimitiveHeader);
                let what = if primitive {
                    "filter-primitive"
                } else {
                    "filter-definition"
                };
                let Some(name) = args.first() else {
                    return Err(self.err(
                        keyword.span,
                        format!("{what} without a name; expected \"{what} <name>\""),
                    ));
                };
                if let Some(extra) = args.get(1) {
                    return Err(self.unexpected_extra(&keyword, extra, &format!("{what} name")));
                }
                let previous = self.config.items.iter().find_map(|item| match item {
                    Item::Primitive(p)
                        if primitive && p.name.text.eq_ignore_ascii_case(&name.text) =>
                    {
                        Some(p.name.span)
                    }
                    Item::Definition(d)
                        if !primitive && d.name.text.eq_ignore_ascii_case(&name.text) =>
                    {
                        Some(d.name.span)
                    }
                    _ => None,
                });
                if let Some(prev) = previous {
                    return Err(self.err(
                        name.span,
                        format!(
                            "{what} \"{}\" is already defined at line {} (names are \
                             case-insensitive); expected a new name",
                            name.text, prev.line
                        ),
                    ));
                }
                let index = self.config.items.len();
                if primitive {
                    self.config.items.push(Item::Primitive(Primitive {
                        name: name.clone(),
                        keyword: keyword.span,
                        type_name: None,
                        statements: Vec::new(),
                    }));
                    self.section = Section::Primitive(index);
                } else {
                    self.config.items.push(Item::Definition(Definition {
                        name: name.clone(),
                        keyword: keyword.span,
                        groups: Vec::new(),
                        invert: None,
                    }));
                    self.section = Section::Definition(index);
                    *new_group = true;
                }
                Ok(())
            }
            Statement::Type | Statement::Entry(_) | Statement::Default | Statement::Mask => {
                let Section::Primitive(index) = self.section else {
                    return Err(self.misplaced(&keyword));
                };
                self.primitive_statement(index, kind, keyword, args, rest_after_first)
            }
            Statement::Match | Statement::Or | Statement::Invert => {
                let Section::Definition(index) = self.section else {
                    return Err(self.misplaced(&keyword));
                };
                self.definition_statement(index, kind, keyword, args, new_group)
            }
            Statement::Unknown => Err(self.misplaced(&keyword)),
        }
    }

    fn primitive_statement(
        &mut self,
        index: usize,
        kind: Statement,
        keyword: Word,
        args: Vec<Word>,
        rest_after_first: Option<Word>,
    ) -> Result<(), FilterError> {
        let file = self.file.to_string();
        let hint = if self.had_variable {
            " (did a variable expand to nothing?)"
        } else {
            ""
        };
        let Some(prim) = self.primitive_mut(index) else {
            return Ok(());
        };
        let prim_name = prim.name.text.clone();
        if let Statement::Type = kind {
            let Some(type_name) = args.first() else {
                return Err(FilterError::at(
                    &file,
                    keyword.span,
                    format!(
                        "type without a value in filter-primitive \"{prim_name}\"; \
                         expected \"type <primitive-type>\""
                    ),
                ));
            };
            if let Some(previous) = &prim.type_name {
                return Err(FilterError::at(
                    &file,
                    keyword.span,
                    format!(
                        "filter-primitive \"{prim_name}\" already has a type (\"{}\" at line {}); \
                         expected only one type line",
                        previous.text, previous.span.line
                    ),
                ));
            }
            if let Some(extra) = args.get(1) {
                return Err(FilterError::at(
                    &file,
                    extra.span,
                    format!(
                        "unexpected \"{}\" after type \"{}\"; expected the end of the line",
                        extra.text, type_name.text
                    ),
                ));
            }
            prim.type_name = Some(type_name.clone());
            return Ok(());
        }
        if prim.type_name.is_none() {
            return Err(FilterError::at(
                &file,
                keyword.span,
                format!(
                    "\"{}\" in filter-primitive \"{prim_name}\" comes before its type; \
                     expected \"type <primitive-type>\" first",
                    keyword.text
                ),
            ));
        }
        let statement = match kind {
            Statement::Entry(mode) => {
                if args.is_empty() {
                    return Err(FilterError::at(
                        &file,
                        keyword.span,
                        format!(
                            "{} without a value in filter-primitive \"{prim_name}\"{hint}; \
                             expected \"{} <value>\"",
                            keyword.text,
                            mode.as_str()
                        ),
                    ));
                }
                ast::PrimitiveStatement::Entry {
                    mode,
                    keyword: keyword.span,
                    args,
                    rest_after_first,
                }
            }
            Statement::Default => ast::PrimitiveStatement::Default {
                keyword: keyword.span,
                args,
            },
            _ => ast::PrimitiveStatement::Mask {
                keyword: keyword.span,
                args,
            },
        };
        prim.statements.push(statement);
        Ok(())
    }

    fn definition_statement(
        &mut self,
        index: usize,
        kind: Statement,
        keyword: Word,
        args: Vec<Word>,
        new_group: &mut bool,
    ) -> Result<(), FilterError> {
        let file = self.file.to_string();
        let Some(def) = self.definition_mut(index) else {
            return Ok(());
        };
        let def_name = def.name.text.clone();
        match kind {
            Statement::Match => {
                let (Some(match_type), Some(primitive)) = (args.first(), args.get(1)) else {
                    let what = if args.is_empty() {
                        "match type"
                    } else {
                        "primitive name"
                    };
                    return Err(FilterError::at(
                        &file,
                        args.first().map_or(keyword.span, |w| w.span),
                        format!(
                            "match without a {what} in filter-definition \"{def_name}\"; \
                             expected \"match <match-type> <primitive>\""
                        ),
                    ));
                };
                if let Some(extra) = args.get(2) {
                    return Err(FilterError::at(
                        &file,
                        extra.span,
                        format!(
                            "unexpected \"{}\" after \"match {} {}\"; expected the end of the line",
                            extra.text, match_type.text, primitive.text
                        ),
                    ));
                }
                let m = ast::Match {
                    keyword: keyword.span,
                    match_type: match_type.clone(),
                    primitive: primitive.clone(),
                };
                match def.groups.last_mut() {
                    Some(group) if !*new_group => group.push(m),
                    _ => def.groups.push(vec![m]),
                }
                *new_group = false;
            }
            _ => {
                if let Some(extra) = args.first() {
                    return Err(FilterError::at(
                        &file,
                        extra.span,
                        format!(
                            "unexpected \"{}\" after \"{}\"; expected the end of the line",
                            extra.text, keyword.text
                        ),
                    ));
                }
                if let Statement::Or = kind {
                    *new_group = true;
                } else if def.invert.is_none() {
                    def.invert = Some(keyword.span);
                }
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ -e EXPR

/// The file name used in errors about inline expressions.
pub(crate) const EXPR_FILE: &str = "<expr>";

fn pair_span(pair: &Pair<'_, Rule>) -> Span {
    let (line, col) = pair.as_span().start_pos().line_col();
    Span::new(line, col)
}

fn rule_name(rule: &Rule) -> &'static str {
    match rule {
        Rule::expr_or | Rule::expr_and | Rule::expr_unary | Rule::comparison => "a comparison",
        Rule::operand | Rule::field => "a $field",
        Rule::number => "a number",
        Rule::address => "an address",
        Rule::quoted => "a quoted address",
        Rule::cmp_op => "a comparison operator (== != < <= > >= eq ne lt le gt ge)",
        Rule::op_or => "||",
        Rule::op_and => "&&",
        Rule::op_not => "!",
        Rule::EOI => "the end of the expression",
        _ => "something else",
    }
}

/// Parses an inline filter expression.
pub(crate) fn parse_expr(text: &str) -> Result<Expr, FilterError> {
    let mut pairs = Grammar::parse(Rule::expr_main, text).map_err(|e| {
        let (line, col) = match e.line_col {
            pest::error::LineColLocation::Pos(p) => p,
            pest::error::LineColLocation::Span(p, _) => p,
        };
        let offset = match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((p, _)) => p,
        };
        let found: String = text
            .get(offset..)
            .unwrap_or("")
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("")
            .chars()
            .take(30)
            .collect();
        let found = if found.is_empty() {
            "the end of the expression".to_string()
        } else {
            format!("\"{found}\"")
        };
        let mut expected: Vec<&str> = match &e.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                positives.iter().map(rule_name).collect()
            }
            pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
        };
        expected.dedup();
        let mut unique: Vec<&str> = Vec::new();
        for name in expected {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        let expected = if unique.is_empty() {
            "a valid expression".to_string()
        } else {
            unique.join(" or ")
        };
        FilterError::at(
            EXPR_FILE,
            Span::new(line, col),
            format!("unexpected {found}; expected {expected}"),
        )
    })?;
    let main = pairs
        .next()
        .ok_or_else(|| FilterError::at(EXPR_FILE, Span::new(1, 1), "empty"))?;
    let or = main
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr_or)
        .ok_or_else(|| FilterError::at(EXPR_FILE, Span::new(1, 1), "empty expression"))?;
    Ok(build_or(or))
}

fn build_or(pair: Pair<'_, Rule>) -> Expr {
    let mut items: Vec<Expr> = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::expr_and)
        .map(build_and)
        .collect();
    if items.len() == 1 {
        items.pop().unwrap_or(Expr::Or(Vec::new()))
    } else {
        Expr::Or(items)
    }
}

fn build_and(pair: Pair<'_, Rule>) -> Expr {
    let mut items: Vec<Expr> = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::expr_unary)
        .map(build_unary)
        .collect();
    if items.len() == 1 {
        items.pop().unwrap_or(Expr::And(Vec::new()))
    } else {
        Expr::And(items)
    }
}

fn build_unary(pair: Pair<'_, Rule>) -> Expr {
    let mut nots = 0;
    let mut inner = Expr::And(Vec::new());
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::op_not => nots += 1,
            Rule::expr_or => inner = build_or(p),
            Rule::comparison => inner = build_comparison(p),
            _ => {}
        }
    }
    for _ in 0..nots {
        inner = Expr::Not(Box::new(inner));
    }
    inner
}

fn build_operand(pair: Pair<'_, Rule>) -> (Operand, Span) {
    let span = pair_span(&pair);
    let text = pair.as_str();
    let operand = match pair.as_rule() {
        Rule::field => Operand::Field(text.trim_start_matches('$').to_string()),
        Rule::number => Operand::Number(text.to_string()),
        Rule::address => Operand::Address(text.to_string()),
        _ => {
            let inner = pair
                .into_inner()
                .find(|p| p.as_rule() == Rule::quoted_inner)
                .map_or("", |p| p.as_str());
            if looks_like_address(inner) {
                Operand::Address(inner.to_string())
            } else {
                Operand::Text(inner.to_string())
            }
        }
    };
    (operand, span)
}

fn looks_like_address(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '/')
        && s.contains('.')
}

fn build_comparison(pair: Pair<'_, Rule>) -> Expr {
    let mut left = (Operand::Text(String::new()), Span::default());
    let mut right = left.clone();
    let mut op = (CmpOp::Eq, Span::default());
    let mut seen_op = false;
    for p in pair.into_inner() {
        if p.as_rule() == Rule::cmp_op {
            let o = match p.as_str().to_ascii_lowercase().as_str() {
                "==" | "eq" => CmpOp::Eq,
                "!=" | "ne" => CmpOp::Ne,
                "<" | "lt" => CmpOp::Lt,
                "<=" | "le" => CmpOp::Le,
                ">" | "gt" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            op = (o, pair_span(&p));
            seen_op = true;
        } else if seen_op {
            right = build_operand(p);
        } else {
            left = build_operand(p);
        }
    }
    Expr::Compare { left, op, right }
}

#[cfg(test)]
mod tests {
    //! Grammar tests (one rule, one input) and AST tests.
    use super::*;

    fn accepts(rule: Rule, input: &str) -> bool {
        matches!(Grammar::parse(rule, input), Ok(p) if p.as_str() == input)
    }

    #[test]
    fn grammar_word_stops_at_blanks() {
        let p = Grammar::parse(Rule::word, "abc def").unwrap();
        assert_eq!(p.as_str(), "abc");
        assert!(accepts(Rule::word, "0x29,0x3f"));
        assert!(!accepts(Rule::word, ""));
    }

    #[test]
    fn grammar_keywords_are_case_insensitive_and_whole_words() {
        assert!(accepts(Rule::kw_primitive, "Filter-Primitive"));
        assert!(accepts(Rule::kw_match, "MATCH"));
        assert!(Grammar::parse(Rule::kw_permit, "permitt").is_err());
    }

    #[test]
    fn grammar_line_forms() {
        for line in [
            "",
            "   ",
            "# comment @ with words",
            "#nospace",
            "filter-primitive p1",
            "  type ip-port",
            "\tpermit 25,26\t",
            "  permit gt July 6, 2005 16:56:00",
            "whatever words here",
        ] {
            assert!(accepts(Rule::line, line), "{line:?}");
        }
    }

    #[test]
    fn grammar_line_picks_the_statement_kind() {
        let kind = |s: &str| {
            Grammar::parse(Rule::line, s)
                .unwrap()
                .next()
                .unwrap()
                .into_inner()
                .next()
                .map(|p| p.as_rule())
        };
        assert_eq!(kind("permit 25"), Some(Rule::permit_stmt));
        assert_eq!(kind("permitt 25"), Some(Rule::unknown_stmt));
        assert_eq!(kind("  # x"), Some(Rule::comment));
        assert_eq!(kind("or"), Some(Rule::or_stmt));
        assert_eq!(kind("ordinary"), Some(Rule::unknown_stmt));
    }

    #[test]
    fn grammar_expression_pieces() {
        assert!(accepts(Rule::field, "$srcip"));
        assert!(accepts(Rule::number, "0x1F"));
        assert!(accepts(Rule::address, "10.0.0.0/8"));
        assert!(accepts(Rule::quoted, "\"192.168.88.134\""));
        assert!(accepts(Rule::cmp_op, "ne"));
        assert!(accepts(Rule::cmp_op, ">="));
        assert!(accepts(
            Rule::expr_main,
            "6 ne $protocol && 17 ne $protocol && 1 ne $protocol"
        ));
        assert!(accepts(
            Rule::expr_main,
            "!($a == 1 || ($b < 2)) and not $c ge 3"
        ));
        assert!(!accepts(Rule::expr_main, "$a =="));
    }

    fn cfg(text: &str) -> Result<Config, FilterError> {
        parse_config(text, "t.cfg", &[])
    }

    #[test]
    fn ast_primitive_and_definition() {
        let c = cfg("filter-primitive P\n  type ip-port\n  permit 25\n  deny 1-3\n  default permit\n\
                     filter-definition D\n  match dst-ip-port P\n  or\n  or\n  match src-ip-port P\n  \
                     match ip-protocol X\n  invert\n")
        .unwrap();
        assert_eq!(c.items.len(), 2);
        let Item::Primitive(p) = &c.items[0] else {
            panic!()
        };
        assert_eq!(p.name.text, "P");
        assert_eq!(p.keyword, Span::new(1, 1));
        assert_eq!(p.type_name.as_ref().unwrap().text, "ip-port");
        assert_eq!(p.type_name.as_ref().unwrap().span, Span::new(2, 8));
        assert_eq!(p.statements.len(), 3);
        match &p.statements[1] {
            ast::PrimitiveStatement::Entry {
                mode,
                args,
                keyword,
                ..
            } => {
                assert_eq!(*mode, Mode::Deny);
                assert_eq!(*keyword, Span::new(4, 3));
                assert_eq!(args[0].text, "1-3");
                assert_eq!(args[0].span, Span::new(4, 8));
            }
            other => panic!("{other:?}"),
        }
        let Item::Definition(d) = &c.items[1] else {
            panic!()
        };
        assert_eq!(d.groups.len(), 2);
        assert_eq!(d.groups[0].len(), 1);
        assert_eq!(d.groups[1].len(), 2);
        assert_eq!(d.groups[1][1].primitive.text, "X");
        assert_eq!(d.groups[1][1].match_type.span, Span::new(11, 9));
        assert_eq!(d.invert, Some(Span::new(12, 3)));
    }

    #[test]
    fn ast_time_date_keeps_the_rest_of_the_line() {
        let c = cfg("filter-primitive t\n type time-date\n permit ge  July 6, 2005 16:56:00  \n")
            .unwrap();
        let Item::Primitive(p) = &c.items[0] else {
            panic!()
        };
        let ast::PrimitiveStatement::Entry {
            rest_after_first,
            args,
            ..
        } = &p.statements[0]
        else {
            panic!()
        };
        assert_eq!(args.len(), 5);
        let rest = rest_after_first.as_ref().unwrap();
        assert_eq!(rest.text, "July 6, 2005 16:56:00");
        assert_eq!(rest.span, Span::new(3, 13));
    }

    #[test]
    fn ast_columns_refer_to_the_line_before_expansion() {
        let vars = vec![("LONGVALUE".to_string(), "1,2,3,4,5,6".to_string())];
        let c = parse_config(
            "filter-primitive p\ntype ip-port\npermit @LONGVALUE x",
            "f",
            &vars,
        )
        .unwrap();
        let Item::Primitive(p) = &c.items[0] else {
            panic!()
        };
        let ast::PrimitiveStatement::Entry { args, .. } = &p.statements[0] else {
            panic!()
        };
        // The expanded value maps to its "@"; "x" stays at column 19.
        assert_eq!(args[0].text, "1,2,3,4,5,6");
        assert_eq!(args[0].span, Span::new(3, 8));
        assert_eq!(args[1].span, Span::new(3, 19));
    }

    #[test]
    fn ast_comments_blank_lines_and_crlf() {
        let c = cfg("# hello\r\n\r\n   \nfilter-definition d\r\n  invert\r\n").unwrap();
        let Item::Definition(d) = &c.items[0] else {
            panic!()
        };
        assert_eq!(d.name.text, "d");
        assert!(d.invert.is_some());
    }

    #[test]
    fn ast_expression() {
        let e =
            parse_expr("6 ne $protocol && (\"10.0.0.0/8\" eq $srcip || !($tos == 0x0))").unwrap();
        let Expr::And(items) = e else { panic!() };
        assert_eq!(items.len(), 2);
        match &items[0] {
            Expr::Compare { left, op, right } => {
                assert_eq!(left.0, Operand::Number("6".into()));
                assert_eq!(op.0, CmpOp::Ne);
                assert_eq!(op.1, Span::new(1, 3));
                assert_eq!(right.0, Operand::Field("protocol".into()));
            }
            other => panic!("{other:?}"),
        }
        let Expr::Or(alts) = &items[1] else { panic!() };
        assert!(
            matches!(&alts[0], Expr::Compare { left: (Operand::Address(a), _), .. } if a == "10.0.0.0/8")
        );
        assert!(matches!(&alts[1], Expr::Not(_)));
    }

    #[test]
    fn expression_errors_have_positions() {
        let e = parse_expr("$srcport == ").unwrap_err();
        assert_eq!(e.span(), Some(Span::new(1, 13)));
        let msg = e.to_string();
        assert!(
            msg.starts_with("<expr>:1:13: unexpected the end of the expression; expected"),
            "{msg}"
        );
        let e = parse_expr("$a = 1").unwrap_err();
        assert_eq!(e.span(), Some(Span::new(1, 4)));
    }
}
