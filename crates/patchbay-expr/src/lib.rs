//! The Logic Apps **Workflow Definition Language** expression engine.
//!
//! * [`parse_template`] reads a JSON string value of a workflow definition (`@expr`, `…@{expr}…`,
//!   `@@`), [`parse_policy_template`] a connector policy-template value (`@connectionParameters('x')`
//!   inside text, `{@body().a}`, `@Request.OriginalHTTPMethod`), and [`parse_expression`] a bare
//!   expression.
//! * [`Template::evaluate`] and [`Expr::evaluate`] run them against a [`Scope`], which provides the
//!   workflow and policy functions (`triggerBody`, `body`, `variables`, `connectionParameters`, …);
//!   everything else comes from the built-in library ([`function_names`], `FUNCTIONS.md`).
//! * [`evaluate_json`] evaluates every string template inside a JSON value (action inputs).
//! * `Display` prints trees back as parseable text.
//!
//! Evaluation is eager: every argument is evaluated before the function runs, including for `if`,
//! `and`, `or` and `coalesce`, as Logic Apps does.
//!
//! ```
//! use patchbay_expr::{EmptyScope, parse_template};
//! use serde_json::json;
//!
//! let t = parse_template("@add(1, 1.5)").unwrap();
//! assert_eq!(t.evaluate(&EmptyScope).unwrap(), json!(2.5));
//! let t = parse_template("Total: @{concat('a', 'b')}").unwrap();
//! assert_eq!(t.evaluate(&EmptyScope).unwrap(), json!("Total: ab"));
//! ```
//!
//! ## Policy templates
//!
//! Parse `apiProperties.json` policy parameter values with [`parse_policy_template`] and evaluate
//! them with a scope that answers the policy functions, for example:
//!
//! ```
//! use patchbay_expr::{MapScope, parse_policy_template};
//! use serde_json::json;
//!
//! let scope = MapScope::new()
//!     .lenient_lookup("connectionParameters", json!({ "tenant": "acme" }))
//!     .lenient_lookup("headers", json!({ "x-region": "eu" }))
//!     .value("body", json!({ "id": 7 }))
//!     .path(&["Request", "OriginalHTTPMethod"], json!("GET"));
//! let url = parse_policy_template("https://@headers('x-region').example.com/t/@connectionParameters('tenant')")
//!     .unwrap();
//! assert_eq!(url.evaluate(&scope).unwrap(), json!("https://eu.example.com/t/acme"));
//! let id = parse_policy_template("@body().id").unwrap();
//! assert_eq!(id.evaluate(&scope).unwrap(), json!(7));
//! ```
#![deny(missing_docs)]

pub mod ast;
pub mod error;
mod eval;
mod functions;
mod lexer;
mod numfmt;
mod parser;
mod print;
pub mod scope;
mod template;
mod time;
mod value;

pub use ast::{Access, Expr, ExprKind, Segment, Span, Template};
pub use error::{EvalError, EvalErrorKind, ParseError};
pub use functions::{function_names, not_yet_function_names, scope_function_names};
pub use parser::parse_expression;
pub use scope::{EmptyScope, MapScope, Scope};
pub use template::{evaluate_json, parse_policy_template, parse_template};
pub use value::{format_double, to_text};
