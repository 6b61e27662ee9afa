//! URLs a server named (a `Location`, a next link): whether they may be followed, and with which headers.

use http::HeaderMap;
use http::header::LOCATION;
use url::Url;

/// Whether the URL's scheme is http or https, the only ones the transport speaks.
pub(crate) fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// Whether two URLs share scheme, host and port.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// The `Location` header resolved against `base` (the URL that answered), when present and http(s).
pub(crate) fn location_header(headers: &HeaderMap, base: &Url) -> Option<Url> {
    let text = headers.get(LOCATION)?.to_str().ok()?.trim();
    let url = base.join(text).ok()?;
    is_http(&url).then_some(url)
}

/// The headers to send to `target`: all of them on the origin of `first`, none elsewhere, so
/// credentials never leak to a host the connector was not configured for.
pub fn headers_for(target: &Url, first: &Url, headers: &HeaderMap) -> HeaderMap {
    if same_origin(target, first) { headers.clone() } else { HeaderMap::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn headers_follow_only_on_the_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer t"));
        let first = Url::parse("https://api.example/v1/start").unwrap();
        let same = Url::parse("https://api.example:443/v1/status/1").unwrap();
        let other = Url::parse("https://evil.example/v1/status/1").unwrap();
        let downgraded = Url::parse("http://api.example/v1/status/1").unwrap();
        assert_eq!(headers_for(&same, &first, &headers).len(), 1);
        assert!(headers_for(&other, &first, &headers).is_empty());
        assert!(headers_for(&downgraded, &first, &headers).is_empty());
    }
}
