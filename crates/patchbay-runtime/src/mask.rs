//! Keeping secrets out of everything a user or a log sees.

/// Replaces every occurrence of each secret (and its percent- and base64-encoded forms) in `text`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        for form in forms(secret) {
            if out.contains(&form) {
                out = out.replace(&form, "***");
            }
        }
    }
    out
}

/// The spellings a secret may take on the wire.
fn forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let encoded =
        percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
    let plus = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let mut all = vec![secret.to_string(), encoded, plus];
    if b64.len() >= 8 {
        all.push(b64.trim_end_matches('=').to_string());
        all.push(b64);
    }
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_plain_encoded_and_base64_forms() {
        let secrets = vec!["s3cr&t/key".to_string()];
        assert_eq!(mask("key=s3cr&t/key", &secrets), "key=***");
        assert_eq!(mask("key=s3cr%26t%2Fkey", &secrets), "key=***");
        assert_eq!(mask("key=s3cr%26t%2Fkey&x", &secrets), "key=***&x");
        let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "s3cr&t/key");
        assert_eq!(mask(&format!("Basic {basic}"), &secrets), "Basic ***");
    }
}
