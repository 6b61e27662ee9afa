//! Pieces both importers share: names, security, Swagger-shaped parameters and extensions.

pub(crate) mod auth;
pub(crate) mod names;
pub(crate) mod swagger;

use crate::diag::escape_segment;
use crate::fields::Ctx;
use crate::model::Object;

/// The code for a part of the source with no connector equivalent.
pub(crate) const LOSS: &str = "PB0109";
/// The code for a value of the wrong type.
pub(crate) const WRONG_TYPE: &str = "PB0105";
/// The code for a document that is not of the expected format.
pub(crate) const NOT_A_DOCUMENT: &str = "PB0106";

/// The pointer of `key` under `pointer`.
pub(crate) fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", escape_segment(key))
}

/// Keeps the `x-*` extensions of what is left of an object; reports the other keys as lost.
pub(crate) fn keep_extensions(rest: Object, pointer: &str, ctx: &mut Ctx) -> Object {
    let mut kept = Object::new();
    for (key, value) in rest {
        if key.starts_with("x-") {
            kept.insert(key, value);
        } else {
            let message = format!("`{key}` has no equivalent in a connector and was left out");
            ctx.emit(LOSS, child(pointer, &key), message);
        }
    }
    kept
}
