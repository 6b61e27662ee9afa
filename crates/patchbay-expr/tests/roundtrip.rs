//! Printing and robustness: printed trees parse back to the same tree, printing templates is a fixed
//! point, and no input makes the parser, printer or evaluator panic.

mod common;

use patchbay_expr::{
    Access, EmptyScope, Expr, ExprKind, Segment, Template, function_names, parse_expression,
    parse_policy_template, parse_template,
};
use proptest::prelude::*;
use serde_json::{Number, Value};

#[test]
fn printing_normalises_spacing_and_quotes() {
    let cases = [
        ("concat( 'a' ,'b' )", "concat('a', 'b')"),
        ("body('x')?['a b'].c[0]", "body('x')?['a b'].c[0]"),
        ("'it''s'", "'it''s'"),
        ("add(1, 1.5)", "add(1, 1.5)"),
        ("sub(-1, 2.0)", "sub(-1, 2.0)"),
        ("[1,[2, 3]]", "[1, [2, 3]]"),
        ("triggerBody()?.value?[0]", "triggerBody()?.value?[0]"),
        ("Request.OriginalHTTPMethod", "Request.OriginalHTTPMethod"),
        ("TRUE", "true"),
        ("1e3", "1000.0"),
    ];
    for (text, printed) in cases {
        let expr = parse_expression(text).expect(text);
        assert_eq!(expr.to_string(), printed, "{text}");
        assert_eq!(parse_expression(printed).expect(printed), expr, "{text}");
    }
}

#[test]
fn printing_templates_escapes_at_signs() {
    let cases = [
        ("@@x", "@@x"),
        ("x @@{a}", "x @@{a}"),
        ("@{ 'a' } and @concat", "@{'a'} and @concat"),
        ("@concat('a')", "@concat('a')"),
        ("plain", "plain"),
        ("@@", "@@"),
    ];
    for (text, printed) in cases {
        let t = parse_template(text).expect(text);
        assert_eq!(t.to_string(), printed, "{text}");
    }
    let tricky = Template::Interpolated(vec![
        Segment::Text("mail@".into()),
        Segment::Expr(Expr::new(ExprKind::String("x".into()))),
        Segment::Text("@{".into()),
    ]);
    let printed = tricky.to_string();
    assert_eq!(printed, "mail@{'@'}@{'x'}@@{");
    let value = parse_template(&printed).expect("parses").evaluate(&EmptyScope).expect("evaluates");
    assert_eq!(value, Value::String("mail@x@{".into()));
}

fn identifier() -> impl Strategy<Value = String> {
    "[a-zA-Z_$][a-zA-Z0-9_$]{0,6}".prop_filter("keywords are literals", |s| {
        !["true", "false", "null"].contains(&s.to_ascii_lowercase().as_str())
    })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        (-1000i32..1000)
            .prop_map(|n| Number::from_f64(f64::from(n) / 8.0).unwrap_or_else(|| Number::from(0))),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        Just(ExprKind::Null),
        any::<bool>().prop_map(ExprKind::Bool),
        number().prop_map(ExprKind::Number),
        any::<String>().prop_map(ExprKind::String),
        "[ a-z'@{}.]{0,6}".prop_map(ExprKind::String),
        prop::collection::vec(identifier(), 1..4).prop_map(ExprKind::Path),
    ]
    .prop_map(Expr::new)
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (identifier(), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(name, args)| ExprKind::Call { name, args }),
            prop::collection::vec(inner.clone(), 0..3).prop_map(ExprKind::Array),
            (inner.clone(), identifier(), any::<bool>()).prop_map(|(target, name, null_safe)| {
                // After a path, `.name` would join the path: such members are written null-safe.
                let null_safe = null_safe || matches!(target.kind, ExprKind::Path(_));
                ExprKind::Member { target: Box::new(target), access: Access::Property(name), null_safe }
            }),
            (inner.clone(), inner, any::<bool>()).prop_map(|(target, index, null_safe)| ExprKind::Member {
                target: Box::new(target),
                access: Access::Index(Box::new(index)),
                null_safe,
            }),
        ]
        .prop_map(Expr::new)
    })
}

fn template() -> impl Strategy<Value = Template> {
    let text = prop_oneof![any::<String>(), "[a@{}' ]{0,5}"];
    let segment = prop_oneof![text.clone().prop_map(Segment::Text), expr().prop_map(Segment::Expr)];
    prop_oneof![
        text.prop_map(Template::Literal),
        expr().prop_map(Template::Expression),
        prop::collection::vec(segment, 0..5).prop_map(Template::Interpolated),
    ]
}

/// Small JSON values that exercise the functions: dates, URIs, base64, formats, collections.
fn argument() -> impl Strategy<Value = Expr> {
    let strings = prop_oneof![
        Just("2018-03-15T13:00:00Z".to_string()),
        Just("03/15/2018 1:00 PM".to_string()),
        Just("https://user@host.example:8080/a/b?c=d#e".to_string()),
        Just("aGVsbG8=".to_string()),
        Just("data:text/plain;base64,aGk=".to_string()),
        Just("{\"a\":[1,2]}".to_string()),
        Just("#,##0.00;(0);'zero'".to_string()),
        Just("yyyy-MM-ddTHH:mm:ss.fffffffK".to_string()),
        Just("Pacific Standard Time".to_string()),
        Just("Day".to_string()),
        "[a-zA-Z0-9%,.#;'\\\\@ -]{0,8}",
        any::<String>(),
    ];
    let scalar = prop_oneof![
        Just(ExprKind::Null),
        any::<bool>().prop_map(ExprKind::Bool),
        (-5i64..40).prop_map(|n| ExprKind::Number(n.into())),
        number().prop_map(ExprKind::Number),
        strings.prop_map(ExprKind::String),
    ]
    .prop_map(Expr::new);
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|items| Expr::new(ExprKind::Array(items))),
            "[a-z]{1,3}".prop_map(|_| Expr::new(ExprKind::Call {
                name: "json".into(),
                args: vec![Expr::new(ExprKind::String("{\"a\":1,\"b\":[true]}".into()))],
            })),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_expressions_parse_to_the_same_tree(e in expr()) {
        let printed = e.to_string();
        let parsed = parse_expression(&printed);
        prop_assert!(parsed.is_ok(), "{printed}: {:?}", parsed.err());
        prop_assert_eq!(parsed.ok(), Some(e), "{}", printed);
    }

    #[test]
    fn printing_templates_is_a_fixed_point(t in template()) {
        let printed = t.to_string();
        let reparsed = parse_template(&printed);
        prop_assert!(reparsed.is_ok(), "{printed:?}: {:?}", reparsed.err());
        let reparsed = reparsed.expect("checked");
        prop_assert_eq!(reparsed.to_string(), printed.clone());
        match (t.evaluate(&EmptyScope), reparsed.evaluate(&EmptyScope)) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{:?}", printed),
            (Err(a), Err(b)) => prop_assert_eq!(a.kind, b.kind, "{:?}", printed),
            (a, b) => prop_assert!(false, "{printed:?}: {a:?} vs {b:?}"),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_text(&text);
    }

    #[test]
    fn grammar_shaped_text_never_panics(text in "[@{}()\\[\\]'.,?a-zA-Z0-9 \\-]{0,24}") {
        check_text(&text);
    }

    #[test]
    fn builtin_functions_never_panic(index in 0usize..1000, args in prop::collection::vec(argument(), 0..4)) {
        let names = function_names();
        let name = names[index % names.len()].to_string();
        let call = Expr::new(ExprKind::Call { name, args });
        let _ = call.evaluate(&common::fixed_scope());
        let _ = call.to_string();
    }
}

/// Parses `text` every way and evaluates and prints what parses; none of it may panic.
fn check_text(text: &str) {
    let scope = common::fixed_scope();
    if let Ok(t) = parse_template(text) {
        let _ = t.evaluate(&scope);
        let printed = t.to_string();
        let again = parse_template(&printed).map(|t| t.to_string());
        assert_eq!(again.as_deref(), Ok(printed.as_str()), "{text:?}");
    }
    if let Ok(t) = parse_policy_template(text) {
        let _ = t.evaluate(&scope);
        let _ = t.to_string();
    }
    if let Ok(e) = parse_expression(text) {
        let _ = e.evaluate(&scope);
        assert_eq!(parse_expression(&e.to_string()).ok(), Some(e), "{text:?}");
    }
}
