//! Bytes → text: UTF-8 (with or without a BOM), UTF-16 LE/BE, and Windows-1252 for bytes
//! that are not UTF-8.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::Leniency;
use super::scan::RawWarning;

/// Decoded text and the whole-file leniencies it needed.
pub(crate) struct Decoded {
    /// The text, without a byte-order mark.
    pub text: String,
    /// Encoding leniencies (offsets into `text`).
    pub warnings: Vec<RawWarning>,
}

/// Decodes `bytes` to text, noting anything that was not plain UTF-8.
pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        let mut decoded = utf8_or_1252(rest);
        decoded.warnings.insert(0, warning(Leniency::ByteOrderMark, 0, "UTF-8 byte-order mark"));
        return decoded;
    }
    if let Some((encoding, rest)) = utf16(bytes) {
        return decode_utf16(encoding, rest);
    }
    utf8_or_1252(bytes)
}

/// Detects UTF-16 by its BOM or by the zero bytes of ASCII text; returns the bytes after any BOM.
fn utf16(bytes: &[u8]) -> Option<(&'static Encoding, &[u8])> {
    match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((UTF_16LE, rest)),
        [0xFE, 0xFF, rest @ ..] => Some((UTF_16BE, rest)),
        [a, 0, c, 0, ..] if *a != 0 && *c != 0 => Some((UTF_16LE, bytes)),
        [a, 0] if *a != 0 => Some((UTF_16LE, bytes)),
        [0, b, 0, d, ..] if *b != 0 && *d != 0 => Some((UTF_16BE, bytes)),
        [0, b] if *b != 0 => Some((UTF_16BE, bytes)),
        _ => None,
    }
}

/// Decodes UTF-16 text (malformed units become U+FFFD), dropping a BOM if one remains.
fn decode_utf16(encoding: &'static Encoding, bytes: &[u8]) -> Decoded {
    let (text, _had_errors) = encoding.decode_without_bom_handling(bytes);
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text).to_owned();
    let message = format!("the file is {} and was decoded", encoding.name());
    Decoded { text, warnings: vec![warning(Leniency::Utf16, 0, &message)] }
}

/// Decodes UTF-8; any bytes that are not UTF-8 are read as Windows-1252 instead.
fn utf8_or_1252(bytes: &[u8]) -> Decoded {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded { text: text.to_owned(), warnings: Vec::new() };
    }
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 8);
    let mut first_bad: Option<(usize, u8)> = None;
    let mut bad_bytes = 0usize;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        let invalid = chunk.invalid();
        if let Some(&byte) = invalid.first() {
            first_bad.get_or_insert((text.len(), byte));
            bad_bytes += invalid.len();
            text.push_str(&WINDOWS_1252.decode_without_bom_handling(invalid).0);
        }
    }
    let warnings = first_bad
        .map(|(offset, byte)| {
            let message = format!(
                "{bad_bytes} byte(s) are not UTF-8 and were read as Windows-1252, \
                 the first is 0x{byte:02X}"
            );
            warning(Leniency::NotUtf8, offset, &message)
        })
        .into_iter()
        .collect();
    Decoded { text, warnings }
}

/// A whole-file warning.
fn warning(kind: Leniency, offset: usize, message: &str) -> RawWarning {
    RawWarning { kind, offset, message: message.to_owned() }
}
