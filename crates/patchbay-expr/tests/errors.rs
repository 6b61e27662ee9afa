//! Parse errors point at the right place; evaluation errors name the function or property.

mod common;

use common::eval;
use patchbay_expr::{EmptyScope, EvalErrorKind, parse_expression, parse_template};

/// `(text, byte offset, line, column, message fragment)` for `parse_expression`.
const EXPRESSION_ERRORS: &[(&str, usize, usize, usize, &str)] = &[
    ("concat('a'", 10, 1, 11, "expected `,` or `)`"),
    ("concat('a)", 7, 1, 8, "unterminated string"),
    ("1 + 2", 2, 1, 3, "unexpected character `+`"),
    ("", 0, 1, 1, "expected an expression"),
    ("f(,)", 2, 1, 3, "expected an expression"),
    ("body().", 7, 1, 8, "expected a property name"),
    ("body().1", 7, 1, 8, "expected a property name"),
    ("123abc", 3, 1, 4, "after number"),
    ("'a' 'b'", 4, 1, 5, "expected the end of the expression"),
    ("a?b", 2, 1, 3, "expected `.` or `[` after `?`"),
    ("x[1", 3, 1, 4, "expected `]`"),
    ("f(1 2)", 4, 1, 5, "expected `,` or `)`"),
    ("[1, 2", 5, 1, 6, "expected `,` or `]`"),
    ("concat('é', #)", 13, 1, 13, "unexpected character `#`"),
    ("f(\n  1,\n  #)", 10, 3, 3, "unexpected character `#`"),
    ("99999999999999999999e999", 0, 1, 1, "out of range"),
    ("a.", 2, 1, 3, "expected a name after `.`"),
    (")", 0, 1, 1, "expected an expression, found `)`"),
];

#[test]
fn expression_errors_point_at_the_problem() {
    for &(text, offset, line, column, fragment) in EXPRESSION_ERRORS {
        let e = parse_expression(text).expect_err(text);
        assert_eq!((e.offset, e.line, e.column), (offset, line, column), "{text}: {e}");
        assert!(e.message.contains(fragment), "{text}: {e}");
    }
}

/// `(template, byte offset, line, column, message fragment)` for `parse_template`.
const TEMPLATE_ERRORS: &[(&str, usize, usize, usize, &str)] = &[
    ("@{concat('a')", 13, 1, 14, "`}`"),
    ("x @{foo(}", 8, 1, 9, "expected an expression"),
    ("@concat('a') trailing", 13, 1, 14, "end of the expression"),
    ("line1\n@{bad(}", 12, 2, 7, "expected an expression"),
    ("@", 1, 1, 2, "expected an expression"),
    ("a @{}", 4, 1, 5, "expected an expression"),
    ("@{'a'} and @{'b'", 16, 1, 17, "`}`"),
    ("@body().", 8, 1, 9, "property name"),
];

#[test]
fn template_errors_point_at_the_problem() {
    for &(text, offset, line, column, fragment) in TEMPLATE_ERRORS {
        let e = parse_template(text).expect_err(text);
        assert_eq!((e.offset, e.line, e.column), (offset, line, column), "{text}: {e}");
        assert!(e.message.contains(fragment), "{text}: {e}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "f(".repeat(5000), ")".repeat(5000));
    let e = parse_expression(&deep).expect_err("too deep");
    assert!(e.message.contains("nested too deeply"), "{e}");
    let chain = format!("x{}", "[0]".repeat(5000));
    assert!(parse_expression(&chain).is_err());
    let arrays = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(parse_expression(&arrays).is_err());
    let ok = format!("{}1{}", "createArray(".repeat(60), ")".repeat(60));
    assert!(parse_expression(&ok).expect("60 levels parse").evaluate(&EmptyScope).is_ok());
}

/// `(expression, kind, function)` of evaluation errors.
const EVAL_ERRORS: &[(&str, EvalErrorKind, Option<&str>)] = &[
    ("json('{\"a\":1}').b", EvalErrorKind::MissingProperty, None),
    ("json('{\"a\":1}')['b']", EvalErrorKind::MissingProperty, None),
    ("createArray(1)[3]", EvalErrorKind::IndexOutOfRange, None),
    ("createArray(1)[-1]", EvalErrorKind::IndexOutOfRange, None),
    ("null.x", EvalErrorKind::InvalidAccess, None),
    ("'abc'.length", EvalErrorKind::InvalidAccess, None),
    ("div(1, 0)", EvalErrorKind::Arithmetic, Some("div")),
    ("mod(1, 0)", EvalErrorKind::Arithmetic, Some("mod")),
    ("div(1.5, 0)", EvalErrorKind::Arithmetic, Some("div")),
    ("add(9223372036854775807, 1)", EvalErrorKind::Arithmetic, Some("add")),
    ("substring('abc', 2, 5)", EvalErrorKind::InvalidArgument, Some("substring")),
    ("substring('abc', -1)", EvalErrorKind::InvalidArgument, Some("substring")),
    ("foo(1)", EvalErrorKind::UnknownFunction, Some("foo")),
    ("triggerBody()", EvalErrorKind::UnknownFunction, Some("triggerBody")),
    ("xpath(xml('<a/>'), '/a')", EvalErrorKind::NotImplemented, Some("xml")),
    ("add('1', 2)", EvalErrorKind::InvalidArgument, Some("add")),
    ("concat()", EvalErrorKind::ArgumentCount, Some("concat")),
    ("toLower('a', 'b')", EvalErrorKind::ArgumentCount, Some("toLower")),
    ("if(1, 2, 3)", EvalErrorKind::InvalidArgument, Some("if")),
    ("if(true, 1, div(1, 0))", EvalErrorKind::Arithmetic, Some("div")),
    ("int('abc')", EvalErrorKind::InvalidArgument, Some("int")),
    ("int('10.5')", EvalErrorKind::InvalidArgument, Some("int")),
    ("json('{')", EvalErrorKind::InvalidArgument, Some("json")),
    ("addDays('not a date', 1)", EvalErrorKind::InvalidArgument, Some("addDays")),
    (
        "convertFromUtc('2018-01-01T00:00:00Z', 'Mars Standard Time')",
        EvalErrorKind::NotImplemented,
        Some("convertFromUtc"),
    ),
    ("range(1, -1)", EvalErrorKind::InvalidArgument, Some("range")),
    ("addProperty(json('{\"a\":1}'), 'a', 2)", EvalErrorKind::InvalidArgument, Some("addProperty")),
    ("formatDateTime('2018-01-01', 'q')", EvalErrorKind::InvalidArgument, Some("formatDateTime")),
    ("formatDateTime('2018-01-01', 'o', 'fr-FR')", EvalErrorKind::NotImplemented, Some("formatDateTime")),
    ("rand(5, 1)", EvalErrorKind::InvalidArgument, Some("rand")),
    ("Request.OriginalHTTPMethod", EvalErrorKind::UnknownPath, None),
    ("formatNumber(1.5, 'D')", EvalErrorKind::InvalidArgument, Some("formatNumber")),
    ("formatNumber(1, 'N', 'xx-XX')", EvalErrorKind::NotImplemented, Some("formatNumber")),
    ("split(null, ',')", EvalErrorKind::InvalidArgument, Some("split")),
    ("and(true, 'yes')", EvalErrorKind::InvalidArgument, Some("and")),
    ("greater('a', 1)", EvalErrorKind::InvalidArgument, Some("greater")),
    ("sort(createArray(1, 'a'))", EvalErrorKind::InvalidArgument, Some("sort")),
    ("chunk('abc', 0)", EvalErrorKind::InvalidArgument, Some("chunk")),
    ("replace('abc', '', 'x')", EvalErrorKind::InvalidArgument, Some("replace")),
    ("uriHost('not a uri')", EvalErrorKind::InvalidArgument, Some("uriHost")),
    ("base64ToString('***')", EvalErrorKind::InvalidArgument, Some("base64ToString")),
    ("addToTime('2018-01-01', 1, 'fortnight')", EvalErrorKind::InvalidArgument, Some("addToTime")),
    ("nthIndexOf('abc', 'a', 0)", EvalErrorKind::InvalidArgument, Some("nthIndexOf")),
    ("length(1)", EvalErrorKind::InvalidArgument, Some("length")),
    ("union(createArray(1), json('{}'))", EvalErrorKind::InvalidArgument, Some("union")),
];

#[test]
fn evaluation_errors_have_a_kind_and_function() {
    let mut failures = Vec::new();
    for &(expr, kind, function) in EVAL_ERRORS {
        match eval(expr) {
            Ok(v) => failures.push(format!("{expr}: expected {kind:?}, got {v}")),
            Err(e) if e.kind != kind || e.function.as_deref() != function => {
                failures.push(format!(
                    "{expr}: expected {kind:?} in {function:?}, got {:?} in {:?}: {e}",
                    e.kind, e.function
                ));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn evaluation_errors_carry_the_offset_in_the_template() {
    let t = parse_template("@concat('a', div(1, 0))").expect("parses");
    let e = t.evaluate(&EmptyScope).expect_err("divides by zero");
    assert_eq!(e.offset, Some(13));
    assert_eq!(e.function.as_deref(), Some("div"));
    let t = parse_template("x @{json('{}').missing} y").expect("parses");
    let e = t.evaluate(&EmptyScope).expect_err("missing property");
    assert_eq!(e.offset, Some(4));
    assert!(e.message.contains("'missing'"), "{e}");
    assert!(e.to_string().starts_with("InvalidTemplate: "), "{e}");
    let text = "line one\nthen @{div(1, 0)}";
    let e = parse_template(text).expect("parses").evaluate(&EmptyScope).expect_err("fails");
    assert_eq!(e.line_column(text), Some((2, 8)));
}

#[test]
fn missing_property_lists_what_is_there() {
    let e = eval("json('{\"a\":1,\"b\":2}').c").expect_err("missing");
    assert_eq!(e.message, "property 'c' doesn't exist, available properties are 'a, b'");
}
