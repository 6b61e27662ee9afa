//! The built-in function library: one registry table, argument helpers, and the per-group
//! implementations.

mod collection;
mod conversion;
mod datetime;
mod logical;
mod manipulation;
mod math;
mod string;
mod uri;

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::error::{EvalError, EvalErrorKind};
use crate::scope::Scope;
use crate::value::{Num, type_name};

/// A built-in function body: the scope (for the clock and randomness) and the evaluated arguments.
pub(crate) type Builtin = fn(&dyn Scope, &[Value]) -> Result<Value, EvalError>;

/// No upper bound on the argument count.
const MANY: usize = usize::MAX;

/// One registry entry.
pub(crate) struct Def {
    /// Catalogue spelling of the name.
    pub name: &'static str,
    /// Fewest arguments.
    pub min: usize,
    /// Most arguments ([`MANY`] for variadic functions).
    pub max: usize,
    /// The implementation.
    pub f: Builtin,
}

impl Def {
    /// Checks the argument count and runs the function; errors name the function.
    pub fn call(&self, scope: &dyn Scope, args: &[Value]) -> Result<Value, EvalError> {
        if args.len() < self.min || args.len() > self.max {
            let expected = match (self.min, self.max) {
                (min, MANY) => format!("at least {min}"),
                (min, max) if min == max => min.to_string(),
                (min, max) => format!("between {min} and {max}"),
            };
            let message = format!("expects {expected} argument(s), but got {}", args.len());
            return Err(EvalError::new(EvalErrorKind::ArgumentCount, message).in_function(self.name));
        }
        (self.f)(scope, args).map_err(|e| e.in_function(self.name))
    }
}

const fn def(name: &'static str, min: usize, max: usize, f: Builtin) -> Def {
    Def { name, min, max, f }
}

/// The registry: every built-in function, in catalogue order.
static TABLE: &[Def] = &[
    // String
    def("concat", 1, MANY, string::concat),
    def("endsWith", 2, 2, string::ends_with),
    def("formatNumber", 2, 3, string::format_number),
    def("guid", 0, 1, string::guid),
    def("indexOf", 2, 2, string::index_of),
    def("isFloat", 1, 2, string::is_float),
    def("isInt", 1, 2, string::is_int),
    def("lastIndexOf", 2, 2, string::last_index_of),
    def("length", 1, 1, string::length),
    def("nthIndexOf", 3, 3, string::nth_index_of),
    def("replace", 3, 3, string::replace),
    def("slice", 2, 3, string::slice),
    def("split", 2, 2, string::split),
    def("startsWith", 2, 2, string::starts_with),
    def("substring", 2, 3, string::substring),
    def("toLower", 1, 1, string::to_lower),
    def("toUpper", 1, 1, string::to_upper),
    def("trim", 1, 1, string::trim),
    // Collection
    def("chunk", 2, 2, collection::chunk),
    def("contains", 2, 2, collection::contains),
    def("createArray", 0, MANY, collection::create_array),
    def("empty", 1, 1, collection::empty),
    def("first", 1, 1, collection::first),
    def("intersection", 2, MANY, collection::intersection),
    def("join", 2, 2, collection::join),
    def("last", 1, 1, collection::last),
    def("reverse", 1, 1, collection::reverse),
    def("skip", 2, 2, collection::skip),
    def("sort", 1, 2, collection::sort),
    def("take", 2, 2, collection::take),
    def("union", 2, MANY, collection::union),
    // Logical
    def("and", 1, MANY, logical::and),
    def("equals", 2, 2, logical::equals),
    def("greater", 2, 2, logical::greater),
    def("greaterOrEquals", 2, 2, logical::greater_or_equals),
    def("if", 3, 3, logical::if_),
    def("less", 2, 2, logical::less),
    def("lessOrEquals", 2, 2, logical::less_or_equals),
    def("not", 1, 1, logical::not),
    def("or", 1, MANY, logical::or),
    // Conversion
    def("array", 1, 1, conversion::array),
    def("base64", 1, 1, conversion::base64),
    def("base64ToBinary", 1, 1, conversion::base64_to_binary),
    def("base64ToString", 1, 1, conversion::base64_to_string),
    def("binary", 1, 1, conversion::binary),
    def("bool", 1, 1, conversion::bool_),
    def("dataUri", 1, 1, conversion::data_uri),
    def("dataUriToBinary", 1, 1, conversion::data_uri_to_binary),
    def("dataUriToString", 1, 1, conversion::data_uri_to_string),
    def("decimal", 1, 1, conversion::decimal),
    def("decodeBase64", 1, 1, conversion::base64_to_string),
    def("decodeDataUri", 1, 1, conversion::data_uri_to_binary),
    def("decodeUriComponent", 1, 1, conversion::decode_uri_component),
    def("encodeUriComponent", 1, 1, conversion::encode_uri_component),
    def("float", 1, 2, conversion::float),
    def("int", 1, 1, conversion::int),
    def("json", 1, 1, conversion::json),
    def("string", 1, 1, conversion::string),
    def("uriComponent", 1, 1, conversion::encode_uri_component),
    def("uriComponentToBinary", 1, 1, conversion::uri_component_to_binary),
    def("uriComponentToString", 1, 1, conversion::decode_uri_component),
    // Math
    def("add", 2, 2, math::add),
    def("div", 2, 2, math::div),
    def("max", 1, MANY, math::max),
    def("min", 1, MANY, math::min),
    def("mod", 2, 2, math::modulo),
    def("mul", 2, 2, math::mul),
    def("rand", 2, 2, math::rand),
    def("range", 2, 2, math::range),
    def("sub", 2, 2, math::sub),
    // Date and time
    def("addDays", 2, 3, datetime::add_days),
    def("addHours", 2, 3, datetime::add_hours),
    def("addMinutes", 2, 3, datetime::add_minutes),
    def("addSeconds", 2, 3, datetime::add_seconds),
    def("addToTime", 3, 4, datetime::add_to_time),
    def("convertFromUtc", 2, 3, datetime::convert_from_utc),
    def("convertTimeZone", 3, 4, datetime::convert_time_zone),
    def("convertToUtc", 2, 3, datetime::convert_to_utc),
    def("dateDifference", 2, 2, datetime::date_difference),
    def("dayOfMonth", 1, 1, datetime::day_of_month),
    def("dayOfWeek", 1, 1, datetime::day_of_week),
    def("dayOfYear", 1, 1, datetime::day_of_year),
    def("formatDateTime", 1, 3, datetime::format_date_time),
    def("getFutureTime", 2, 3, datetime::get_future_time),
    def("getPastTime", 2, 3, datetime::get_past_time),
    def("parseDateTime", 1, 3, datetime::parse_date_time),
    def("startOfDay", 1, 2, datetime::start_of_day),
    def("startOfHour", 1, 2, datetime::start_of_hour),
    def("startOfMonth", 1, 2, datetime::start_of_month),
    def("subtractFromTime", 3, 4, datetime::subtract_from_time),
    def("ticks", 1, 1, datetime::ticks),
    def("utcNow", 0, 1, datetime::utc_now),
    // URI parsing
    def("uriHost", 1, 1, uri::host),
    def("uriPath", 1, 1, uri::path),
    def("uriPathAndQuery", 1, 1, uri::path_and_query),
    def("uriPort", 1, 1, uri::port),
    def("uriQuery", 1, 1, uri::query),
    def("uriScheme", 1, 1, uri::scheme),
    // Manipulation
    def("addProperty", 3, 3, manipulation::add_property),
    def("coalesce", 1, MANY, manipulation::coalesce),
    def("removeProperty", 2, 2, manipulation::remove_property),
    def("setProperty", 3, 3, manipulation::set_property),
];

/// Functions the caller's scope provides (workflow functions and policy-template functions).
pub(crate) const SCOPE_FUNCTIONS: &[&str] = &[
    "action",
    "actionBody",
    "actionOutputs",
    "actions",
    "body",
    "formDataMultiValues",
    "formDataValue",
    "item",
    "items",
    "iterationIndexes",
    "listCallbackUrl",
    "multipartBody",
    "outputs",
    "parameters",
    "result",
    "trigger",
    "triggerBody",
    "triggerFormDataMultiValues",
    "triggerFormDataValue",
    "triggerMultipartBody",
    "triggerOutputs",
    "variables",
    "workflow",
    "connectionParameters",
    "header",
    "headers",
    "queryParameters",
];

/// Catalogue functions not implemented yet (a call reports [`EvalErrorKind::NotImplemented`]).
pub(crate) const NOT_YET: &[&str] = &["xml", "xpath"];

static BY_NAME: LazyLock<HashMap<String, &'static Def>> =
    LazyLock::new(|| TABLE.iter().map(|d| (d.name.to_ascii_lowercase(), d)).collect());

static CANONICAL: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let names = TABLE.iter().map(|d| d.name).chain(SCOPE_FUNCTIONS.iter().copied());
    names.chain(NOT_YET.iter().copied()).map(|n| (n.to_ascii_lowercase(), n)).collect()
});

static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| TABLE.iter().map(|d| d.name).collect());

/// The names of all built-in functions, in registry order (`FUNCTIONS.md` lists them and the
/// catalogue functions that are not implemented yet).
pub fn function_names() -> &'static [&'static str] {
    &NAMES
}

/// Workflow and policy functions the evaluator expects a [`Scope`] to provide (`triggerBody`, `body`,
/// `variables`, `connectionParameters`, …); without one, calling them is an `UnknownFunction` error.
pub fn scope_function_names() -> &'static [&'static str] {
    SCOPE_FUNCTIONS
}

/// Catalogue functions that are not implemented yet (`xml`, `xpath`).
pub fn not_yet_function_names() -> &'static [&'static str] {
    NOT_YET
}

/// The built-in function `name` (case-insensitive).
pub(crate) fn lookup(name: &str) -> Option<&'static Def> {
    BY_NAME.get(&name.to_ascii_lowercase()).copied()
}

/// The catalogue spelling of a built-in, workflow or policy function name.
pub(crate) fn canonical_name(name: &str) -> Option<&'static str> {
    CANONICAL.get(&name.to_ascii_lowercase()).copied()
}

/// The catalogue spelling of a function that is not implemented yet.
pub(crate) fn not_yet_name(name: &str) -> Option<&'static str> {
    NOT_YET.iter().copied().find(|f| f.eq_ignore_ascii_case(name))
}

/// `true` for workflow and policy functions that only a scope can provide.
pub(crate) fn is_scope_function(name: &str) -> bool {
    SCOPE_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// "first", "second", … for argument positions in messages.
fn ordinal(i: usize) -> String {
    const WORDS: [&str; 10] =
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
    WORDS.get(i).map_or_else(|| format!("#{}", i + 1), |w| (*w).to_string())
}

/// The error for argument `i` not being of type `expected`.
pub(crate) fn type_error(args: &[Value], i: usize, expected: &str) -> EvalError {
    let got = args.get(i).map_or("missing", type_name);
    EvalError::invalid(format!(
        "expects its {} parameter to be of type {expected}. The provided value is of type '{got}'",
        ordinal(i)
    ))
}

/// Argument `i` as a string.
pub(crate) fn string_arg(args: &[Value], i: usize) -> Result<&str, EvalError> {
    args.get(i).and_then(Value::as_str).ok_or_else(|| type_error(args, i, "string"))
}

/// Argument `i` as a string, or `None` when it is absent or null.
pub(crate) fn opt_string_arg(args: &[Value], i: usize) -> Result<Option<&str>, EvalError> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string_arg(args, i).map(Some),
    }
}

/// Argument `i` as a number.
pub(crate) fn number_arg(args: &[Value], i: usize) -> Result<Num, EvalError> {
    match args.get(i) {
        Some(Value::Number(n)) => Ok(Num::of(n)),
        _ => Err(type_error(args, i, "number")),
    }
}

/// Argument `i` as an integer (a float with an integral value is accepted).
pub(crate) fn int_arg(args: &[Value], i: usize) -> Result<i64, EvalError> {
    match number_arg(args, i) {
        Ok(Num::Int(n)) => Ok(n),
        Ok(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(f as i64),
        _ => Err(type_error(args, i, "integer")),
    }
}

/// Argument `i` as a boolean.
pub(crate) fn bool_arg(args: &[Value], i: usize) -> Result<bool, EvalError> {
    args.get(i).and_then(Value::as_bool).ok_or_else(|| type_error(args, i, "boolean"))
}

/// Argument `i` as an object.
pub(crate) fn object_arg(args: &[Value], i: usize) -> Result<&Map<String, Value>, EvalError> {
    args.get(i).and_then(Value::as_object).ok_or_else(|| type_error(args, i, "object"))
}

/// The error of a catalogue function not implemented yet.
pub(crate) fn not_yet(what: &str) -> EvalError {
    EvalError::new(EvalErrorKind::NotImplemented, format!("{what} is not implemented yet"))
}
