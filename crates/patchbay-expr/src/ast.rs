//! The syntax tree of expressions and templates.
//!
//! Every node carries a [`Span`] into the text it was parsed from. Equality (`==`) compares structure
//! only and ignores spans, so a printed and re-parsed tree equals the original.

use serde_json::Number;

/// Byte range of a node in the parsed text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte of the node.
    pub start: usize,
    /// One past the last byte of the node.
    pub end: usize,
}

/// An expression node with its position.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it was parsed from (zero for built trees).
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer (`i64`) or floating-point (`f64`) literal; the distinction is kept.
    Number(Number),
    /// A single-quoted string literal (already unescaped).
    String(String),
    /// An array literal `[a, b]`.
    Array(Vec<Expr>),
    /// A function call; the name is kept as written (functions match case-insensitively).
    Call {
        /// Function name as written.
        name: String,
        /// Arguments, evaluated left to right.
        args: Vec<Expr>,
    },
    /// A dotted identifier path such as `Request.OriginalHTTPMethod`, resolved by the scope.
    Path(Vec<String>),
    /// A member access on `target`.
    Member {
        /// The value accessed.
        target: Box<Expr>,
        /// The property or index.
        access: Access,
        /// `true` for `?.` / `?[`: a missing member yields `null` instead of an error.
        null_safe: bool,
    },
}

/// The accessor of a [`ExprKind::Member`].
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// `.name`.
    Property(String),
    /// `[expr]`: a property name (string) or an array index (integer).
    Index(Box<Expr>),
}

impl Expr {
    /// A node with an empty span.
    pub fn new(kind: ExprKind) -> Self {
        Self { kind, span: Span::default() }
    }

    /// A node with a span.
    pub fn spanned(kind: ExprKind, start: usize, end: usize) -> Self {
        Self { kind, span: Span { start, end } }
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

/// One piece of an interpolated template.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Literal text (already unescaped).
    Text(String),
    /// `@{expr}`: the value, converted to a string.
    Expr(Expr),
}

/// A parsed JSON string value.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A string with no expression; evaluates to itself (after `@@` unescaping).
    Literal(String),
    /// A whole-string `@expr`; the result keeps its JSON type.
    Expression(Expr),
    /// Text with `@{…}` interpolations; the result is always a string.
    Interpolated(Vec<Segment>),
}

impl Template {
    /// `true` when the template contains no expression.
    pub fn is_literal(&self) -> bool {
        matches!(self, Template::Literal(_))
    }

    /// The expressions of the template, in text order.
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            Template::Literal(_) => Vec::new(),
            Template::Expression(e) => vec![e],
            Template::Interpolated(segments) => segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Expr(e) => Some(e),
                    Segment::Text(_) => None,
                })
                .collect(),
        }
    }
}
