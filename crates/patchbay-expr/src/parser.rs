//! Recursive-descent parser for one expression (no leading `@`).
//!
//! ```text
//! expr     := primary accessor*
//! primary  := STRING | NUMBER | 'true' | 'false' | 'null'
//!           | IDENT '(' [expr (',' expr)*] ')'        function call
//!           | IDENT ('.' IDENT)*                      path resolved by the scope
//!           | '[' [expr (',' expr)*] ']'              array literal
//! accessor := ['?'] '.' IDENT | ['?'] '[' expr ']'
//! ```

use serde_json::Number;

use crate::ast::{Access, Expr, ExprKind};
use crate::error::ParseError;
use crate::lexer::{Lexer, Tok, Token};

/// Deepest nesting of calls, arrays and accessors accepted (keeps evaluation off the stack limit).
pub(crate) const MAX_DEPTH: usize = 128;

/// Policy functions whose value is a plain string: in the policy dialect a `.` after them is text.
const POLICY_STRING_FUNCTIONS: &[&str] = &["connectionParameters", "header", "headers", "queryParameters"];

/// Parser state: the lexer plus the nesting depth.
pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    depth: usize,
    /// Policy-template dialect: accessors are null-safe, and string-valued policy calls take none.
    policy: bool,
}

impl<'a> Parser<'a> {
    /// A parser over `text` from byte `pos`.
    pub fn new(text: &'a str, pos: usize) -> Self {
        Self { lexer: Lexer::new(text, pos), depth: 0, policy: false }
    }

    /// A parser for an expression embedded in policy-template text.
    pub fn policy(text: &'a str, pos: usize) -> Self {
        Self { lexer: Lexer::new(text, pos), depth: 0, policy: true }
    }

    /// The current byte position.
    pub fn pos(&self) -> usize {
        self.lexer.pos()
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.lexer.text(), offset, message)
    }

    /// Consumes the next token and checks it is `want`.
    pub fn expect(&mut self, want: &Tok, what: &str) -> Result<Token, ParseError> {
        let token = self.lexer.next_token()?;
        if &token.kind == want {
            Ok(token)
        } else {
            Err(self.error(token.start, format!("expected {what}, found {}", token.kind.describe())))
        }
    }

    /// Parses one expression.
    pub fn expression(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let at = self.pos();
            return Err(self.error(at, "expression is nested too deeply"));
        }
        let primary = self.primary()?;
        let result = self.accessors(primary);
        self.depth -= 1;
        result
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let token = self.lexer.next_token()?;
        let (start, end) = (token.start, token.end);
        let kind = match token.kind {
            Tok::Str(s) => ExprKind::String(s),
            Tok::Int(n) => ExprKind::Number(Number::from(n)),
            Tok::Float(f) => match Number::from_f64(f) {
                Some(n) => ExprKind::Number(n),
                None => return Err(self.error(start, "number is out of range")),
            },
            Tok::LBracket => {
                let items = self.list(&Tok::RBracket, "`,` or `]`")?;
                return Ok(Expr::spanned(ExprKind::Array(items), start, self.pos()));
            }
            Tok::Ident(name) => return self.identifier(name, start, end),
            other => {
                return Err(self.error(start, format!("expected an expression, found {}", other.describe())));
            }
        };
        Ok(Expr::spanned(kind, start, end))
    }

    fn identifier(&mut self, name: String, start: usize, end: usize) -> Result<Expr, ParseError> {
        let mut ahead = self.lexer.clone();
        if self.look(&mut ahead)?.kind == Tok::LParen {
            self.lexer.next_token()?;
            let args = self.list(&Tok::RParen, "`,` or `)`")?;
            return Ok(Expr::spanned(ExprKind::Call { name, args }, start, self.pos()));
        }
        let keyword = match name.to_ascii_lowercase().as_str() {
            "true" => Some(ExprKind::Bool(true)),
            "false" => Some(ExprKind::Bool(false)),
            "null" => Some(ExprKind::Null),
            _ => None,
        };
        if let Some(kind) = keyword {
            return Ok(Expr::spanned(kind, start, end));
        }
        let mut segments = vec![name];
        let mut end = end;
        while let Some(next) = self.dotted_ident()? {
            end = next.end;
            if let Tok::Ident(segment) = next.kind {
                segments.push(segment);
            }
        }
        Ok(Expr::spanned(ExprKind::Path(segments), start, end))
    }

    /// The next token of a look-ahead cursor. In the policy dialect the expression is embedded in
    /// text, so text that does not lex ends the expression (`Eof`) instead of failing.
    fn look(&self, ahead: &mut Lexer<'a>) -> Result<Token, ParseError> {
        match ahead.next_token() {
            Err(_) if self.policy => {
                let at = ahead.pos();
                Ok(Token { kind: Tok::Eof, start: at, end: at })
            }
            other => other,
        }
    }

    /// Consumes `. IDENT` when both tokens follow; returns the identifier token.
    fn dotted_ident(&mut self) -> Result<Option<Token>, ParseError> {
        let mut ahead = self.lexer.clone();
        if self.look(&mut ahead)?.kind != Tok::Dot {
            return Ok(None);
        }
        let ident = self.look(&mut ahead)?;
        if !matches!(ident.kind, Tok::Ident(_)) {
            if self.policy {
                return Ok(None);
            }
            return Err(self
                .error(ident.start, format!("expected a name after `.`, found {}", ident.kind.describe())));
        }
        self.lexer = ahead;
        Ok(Some(ident))
    }

    /// Parses `item (',' item)* close` after the opening token (an empty list is allowed).
    fn list(&mut self, close: &Tok, what: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if &self.lexer.peek()?.kind == close {
            self.lexer.next_token()?;
            return Ok(items);
        }
        loop {
            items.push(self.expression()?);
            let token = self.lexer.next_token()?;
            if &token.kind == close {
                return Ok(items);
            }
            if token.kind != Tok::Comma {
                return Err(
                    self.error(token.start, format!("expected {what}, found {}", token.kind.describe()))
                );
            }
        }
    }

    fn takes_accessors(&self, target: &Expr) -> bool {
        if !self.policy {
            return true;
        }
        match &target.kind {
            ExprKind::Call { name, .. } => {
                !POLICY_STRING_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name))
            }
            _ => true,
        }
    }

    fn accessors(&mut self, target: Expr) -> Result<Expr, ParseError> {
        if !self.takes_accessors(&target) {
            return Ok(target);
        }
        let depth = self.depth;
        let result = self.accessor_chain(target);
        self.depth = depth;
        result
    }

    /// Parses accessors; each one counts as a nesting level, since the tree nests them.
    fn accessor_chain(&mut self, mut target: Expr) -> Result<Expr, ParseError> {
        loop {
            let mut ahead = self.lexer.clone();
            let mut token = self.look(&mut ahead)?;
            let null_safe = token.kind == Tok::Question;
            if null_safe {
                token = self.look(&mut ahead)?;
            }
            let access = match token.kind {
                Tok::Dot => {
                    let name = self.look(&mut ahead)?;
                    match name.kind {
                        Tok::Ident(n) => Access::Property(n),
                        _ if self.policy => return Ok(target),
                        other => {
                            let message =
                                format!("expected a property name after `.`, found {}", other.describe());
                            return Err(self.error(name.start, message));
                        }
                    }
                }
                Tok::LBracket => {
                    self.lexer = ahead;
                    let index = self.expression()?;
                    self.expect(&Tok::RBracket, "`]`")?;
                    ahead = self.lexer.clone();
                    Access::Index(Box::new(index))
                }
                _ if null_safe && !self.policy => {
                    let message = format!("expected `.` or `[` after `?`, found {}", token.kind.describe());
                    return Err(self.error(token.start, message));
                }
                _ => return Ok(target),
            };
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error(token.start, "expression is nested too deeply"));
            }
            self.lexer = ahead;
            let start = target.span.start;
            let null_safe = null_safe || self.policy;
            let member = ExprKind::Member { target: Box::new(target), access, null_safe };
            target = Expr::spanned(member, start, self.pos());
        }
    }
}

/// Parses a bare expression (no leading `@`) that must span the whole text.
pub fn parse_expression(text: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser::new(text, 0);
    let expr = parser.expression()?;
    parser.expect(&Tok::Eof, "the end of the expression")?;
    Ok(expr)
}
