//! Tokens of the expression language, read on demand so a template can stop at the closing `}`.

use crate::error::ParseError;

/// A token and its byte range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Question,
    RBrace,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("identifier `{name}`"),
            Tok::Str(_) => "a string literal".into(),
            Tok::Int(_) | Tok::Float(_) => "a number".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Question => "`?`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Eof => "the end of the expression".into(),
        }
    }
}

/// A cursor over `text`; cloning it is a cheap save point for look-ahead.
#[derive(Debug, Clone)]
pub(crate) struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

/// `true` for characters that may start an identifier.
pub(crate) fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

/// `true` for characters that may continue an identifier.
pub(crate) fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

impl<'a> Lexer<'a> {
    /// A lexer over `text` starting at byte `pos`.
    pub fn new(text: &'a str, pos: usize) -> Self {
        Self { text, pos }
    }

    /// The whole text (for error positions).
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The current byte position.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        ParseError::at(self.text, offset, message)
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        self.pos += rest.len() - trimmed.len();
    }

    /// The next token without consuming it.
    pub fn peek(&self) -> Result<Token, ParseError> {
        self.clone().next_token()
    }

    /// Reads the next token.
    pub fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_whitespace();
        let start = self.pos;
        let Some(c) = self.rest().chars().next() else {
            return Ok(Token { kind: Tok::Eof, start, end: start });
        };
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            '?' => Some(Tok::Question),
            '}' => Some(Tok::RBrace),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return Ok(Token { kind, start, end: self.pos });
        }
        let kind = if c == '\'' {
            self.string()?
        } else if c.is_ascii_digit()
            || (c == '-' && self.rest()[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            self.number()?
        } else if is_ident_start(c) {
            let len = self.rest().find(|ch: char| !is_ident_continue(ch)).unwrap_or(self.rest().len());
            let name = self.rest()[..len].to_string();
            self.pos += len;
            Tok::Ident(name)
        } else {
            return Err(self.error(start, format!("unexpected character `{c}`")));
        };
        Ok(Token { kind, start, end: self.pos })
    }

    fn string(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let Some(quote) = rest.find('\'') else {
                return Err(self.error(start, "unterminated string literal"));
            };
            out.push_str(&rest[..quote]);
            self.pos += quote + 1;
            if self.rest().starts_with('\'') {
                out.push('\'');
                self.pos += 1;
            } else {
                return Ok(Tok::Str(out));
            }
        }
    }

    fn number(&mut self) -> Result<Tok, ParseError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = self.pos;
        if bytes[i] == b'-' {
            i += 1;
        }
        let digits = |mut i: usize| {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            i
        };
        i = digits(i);
        let mut float = false;
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            float = true;
            i = digits(i + 1);
        }
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            let mut j = i + 1;
            if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                j += 1;
            }
            if j < bytes.len() && bytes[j].is_ascii_digit() {
                float = true;
                i = digits(j);
            }
        }
        if i < bytes.len() && is_ident_start(bytes[i] as char) {
            return Err(self.error(i, "unexpected character after number"));
        }
        let text = &self.text[start..i];
        self.pos = i;
        if !float && let Ok(n) = text.parse::<i64>() {
            return Ok(Tok::Int(n));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
            _ => Err(self.error(start, format!("number `{text}` is out of range"))),
        }
    }
}
