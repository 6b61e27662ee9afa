//! `x-ms-pageable`: follow the next link and merge the pages' item arrays (spec §6.3).
//!
//! The next link is read from `next_link_name` (absolute, or relative to the URL of the page
//! that carried it) and the items from `items_path` (default `value`). Both name a top-level
//! property when the body has one by that exact name (`@odata.nextLink`), otherwise a
//! dot-separated path (`data.items`).
//!
//! Pages are fetched while a next link exists, fewer than `limit` items are collected and
//! `max_pages` is not reached. The result is the first page's body with the merged array (at most
//! `limit` items) in place of its items. The next link is removed, except when reading stopped
//! at the limit (or `max_pages`) exactly at a page boundary: then it is kept, resolved to an
//! absolute URL, and it fetches precisely the items not returned. When the limit cut a page in
//! the middle, the link is removed, since following it would skip the items cut off. A next
//! link already visited stops paging (a server looping on itself).
//! The kept headers go only to pages on the origin of the first request.

use super::origin::{headers_for, is_http};
use super::retry::RetryPolicy;
use super::{Transport, TransportError};
use crate::wire::{WireRequest, WireResponse};
use http::{HeaderMap, Method};
use serde_json::Value;
use std::collections::HashSet;
use url::Url;

/// What to follow and how far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOptions {
    /// The property holding the next page's URL (`x-ms-pageable.nextLinkName`).
    pub next_link_name: String,
    /// The property holding each page's items.
    pub items_path: String,
    /// Most items returned (Logic Apps' `minimumItemCount`, applied as a cap).
    pub limit: usize,
    /// Most pages read, the first included.
    pub max_pages: usize,
    /// The retry policy for each page request.
    pub retry: RetryPolicy,
}

impl Default for PageOptions {
    /// `nextLink` (AutoRest's default name), items in `value`, 5,000 items, 1,000 pages.
    fn default() -> Self {
        PageOptions {
            next_link_name: "nextLink".to_owned(),
            items_path: "value".to_owned(),
            limit: 5000,
            max_pages: 1000,
            retry: RetryPolicy::default(),
        }
    }
}

impl PageOptions {
    /// The defaults with this next-link name.
    pub fn new(next_link_name: &str) -> Self {
        PageOptions { next_link_name: next_link_name.to_owned(), ..Default::default() }
    }
}

/// Why the pages could not be collected.
#[derive(Debug, thiserror::Error)]
pub enum PagingError {
    /// Fetching a page failed.
    #[error("fetching page {url} failed: {source}")]
    Transport {
        /// The page URL.
        url: Url,
        /// The failure (boxed to keep the error small).
        source: Box<TransportError>,
    },
    /// A page answered with a non-success status.
    #[error("page {url} answered {}", response.status)]
    Status {
        /// The page URL.
        url: Url,
        /// The answer (boxed to keep the error small).
        response: Box<WireResponse>,
    },
    /// A page body is not JSON.
    #[error("page {url} is not JSON: {reason}")]
    NotJson {
        /// The page URL.
        url: Url,
        /// The parser's message.
        reason: String,
    },
    /// The first page has no items at the path.
    #[error("the first page has no {path:?} property")]
    MissingItems {
        /// The items path.
        path: String,
    },
    /// The items at the path are not an array.
    #[error("{path:?} on page {url} is not an array")]
    NotAnArray {
        /// The page URL.
        url: Url,
        /// The items path.
        path: String,
    },
    /// The next link is not a string holding an http(s) URL.
    #[error("next link {link} on page {url} is not an http(s) URL")]
    BadNextLink {
        /// The page URL.
        url: Url,
        /// The link as found (JSON).
        link: String,
    },
}

/// One page read: its body (items and link taken out), where they were, its items and next link.
struct Page {
    body: Value,
    items_at: Vec<String>,
    link_at: Vec<String>,
    items: Vec<Value>,
    next: Option<Url>,
}

impl Transport {
    /// Follows next links from `first` (the answer to `request_url`) and returns its body with
    /// the items of all pages merged, up to `options.limit`; `headers` go with each page request.
    pub async fn collect_pages(
        &self,
        first: WireResponse,
        request_url: &Url,
        options: &PageOptions,
        headers: HeaderMap,
    ) -> Result<Value, PagingError> {
        let Page { mut body, items_at, link_at, items, mut next } =
            read_page(first, request_url, options, true)?;
        let mut merged = Vec::new();
        let mut cut = append(&mut merged, items, options.limit);
        let mut visited = HashSet::from([request_url.clone()]);
        let mut pages = 1;
        while let Some(url) = next.clone() {
            if cut || merged.len() >= options.limit || pages >= options.max_pages {
                break;
            }
            if !visited.insert(url.clone()) {
                next = None;
                break;
            }
            let mut request = WireRequest::new(Method::GET, url.clone());
            request.headers = headers_for(&url, request_url, &headers);
            let response = self
                .send_with_retry(request, &options.retry)
                .await
                .map_err(|source| PagingError::Transport { url: url.clone(), source: Box::new(source) })?;
            let page = read_page(response, &url, options, false)?;
            cut = append(&mut merged, page.items, options.limit);
            next = page.next;
            pages += 1;
        }
        set(&mut body, &items_at, Value::Array(merged));
        if let Some(url) = next.filter(|_| !cut) {
            set(&mut body, &link_at, Value::String(url.into()));
        }
        Ok(body)
    }
}

/// Appends up to `limit` items in all; true when some had to be left out.
fn append(merged: &mut Vec<Value>, items: Vec<Value>, limit: usize) -> bool {
    let room = limit.saturating_sub(merged.len());
    let cut = items.len() > room;
    merged.extend(items.into_iter().take(room));
    cut
}

/// Parses a page and takes its items and next link out of the body.
fn read_page(
    response: WireResponse,
    url: &Url,
    options: &PageOptions,
    first: bool,
) -> Result<Page, PagingError> {
    if !response.status.is_success() {
        return Err(PagingError::Status { url: url.clone(), response: Box::new(response) });
    }
    let mut body: Value = serde_json::from_slice(&response.body)
        .map_err(|err| PagingError::NotJson { url: url.clone(), reason: err.to_string() })?;
    let items_at = path_of(&body, &options.items_path);
    let items = match take(&mut body, &items_at) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) if !first => Vec::new(),
        None => return Err(PagingError::MissingItems { path: options.items_path.clone() }),
        Some(_) => {
            return Err(PagingError::NotAnArray { url: url.clone(), path: options.items_path.clone() });
        }
    };
    let link_at = path_of(&body, &options.next_link_name);
    let next = match take(&mut body, &link_at) {
        None | Some(Value::Null) => None,
        Some(Value::String(link)) if link.trim().is_empty() => None,
        Some(Value::String(link)) => Some(next_url(url, &link)?),
        Some(other) => return Err(PagingError::BadNextLink { url: url.clone(), link: other.to_string() }),
    };
    Ok(Page { body, items_at, link_at, items, next })
}

/// A next link resolved against the page URL; http(s) only.
fn next_url(page: &Url, link: &str) -> Result<Url, PagingError> {
    let bad = || PagingError::BadNextLink { url: page.clone(), link: Value::from(link).to_string() };
    let url = page.join(link.trim()).map_err(|_| bad())?;
    if is_http(&url) { Ok(url) } else { Err(bad()) }
}

/// The property path a name denotes in this body: the exact top-level name when present, else
/// its dot-separated parts.
fn path_of(body: &Value, name: &str) -> Vec<String> {
    if body.get(name).is_some() || !name.contains('.') {
        vec![name.to_owned()]
    } else {
        name.split('.').map(str::to_owned).collect()
    }
}

/// Removes and returns the value at a path.
fn take(body: &mut Value, path: &[String]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let mut current = body;
    for part in parents {
        current = current.get_mut(part.as_str())?;
    }
    current.as_object_mut()?.shift_remove(last.as_str())
}

/// Sets the value at a path whose parent exists (and is an object); otherwise does nothing.
fn set(body: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = body;
    for part in parents {
        match current.get_mut(part.as_str()) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Some(object) = current.as_object_mut() {
        object.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use serde_json::json;

    fn page(body: Value) -> WireResponse {
        WireResponse { status: StatusCode::OK, headers: HeaderMap::new(), body: body.to_string().into() }
    }

    fn options(next: &str, items: &str) -> PageOptions {
        PageOptions { items_path: items.to_owned(), ..PageOptions::new(next) }
    }

    #[test]
    fn exact_top_level_names_win_over_dotted_paths() {
        let url = Url::parse("https://api.example/v1/items?top=2").unwrap();
        let body = json!({"value": [1], "@odata.nextLink": "?skip=2", "odata": {"nextLink": "x"}});
        let read = read_page(page(body), &url, &options("@odata.nextLink", "value"), true).unwrap();
        assert_eq!(read.next.unwrap().as_str(), "https://api.example/v1/items?skip=2");
        assert_eq!(read.body, json!({"odata": {"nextLink": "x"}}));
    }

    #[test]
    fn nested_paths_are_read_and_written_back() {
        let url = Url::parse("https://api.example/v1/items").unwrap();
        let body = json!({"data": {"items": [1, 2]}, "paging": {"next": "/v1/items?p=2"}});
        let mut read = read_page(page(body), &url, &options("paging.next", "data.items"), true).unwrap();
        assert_eq!(read.items, vec![json!(1), json!(2)]);
        assert_eq!(read.next.as_ref().unwrap().as_str(), "https://api.example/v1/items?p=2");
        set(&mut read.body, &read.items_at, json!([9]));
        assert_eq!(read.body, json!({"data": {"items": [9]}, "paging": {}}));
    }

    #[test]
    fn malformed_pages_are_errors_not_panics() {
        let url = Url::parse("https://api.example/").unwrap();
        let opts = options("nextLink", "value");
        let err = |r: Result<Page, PagingError>| r.err().unwrap();
        assert!(matches!(
            err(read_page(page(json!({})), &url, &opts, true)),
            PagingError::MissingItems { .. }
        ));
        assert!(read_page(page(json!({})), &url, &opts, false).unwrap().items.is_empty());
        let not_array = page(json!({"value": {"a": 1}}));
        assert!(matches!(err(read_page(not_array, &url, &opts, true)), PagingError::NotAnArray { .. }));
        let numeric_link = page(json!({"value": [], "nextLink": 3}));
        assert!(matches!(err(read_page(numeric_link, &url, &opts, true)), PagingError::BadNextLink { .. }));
        let ftp_link = page(json!({"value": [], "nextLink": "ftp://x/"}));
        assert!(matches!(err(read_page(ftp_link, &url, &opts, true)), PagingError::BadNextLink { .. }));
        let text = WireResponse { body: "nope".into(), ..page(json!(null)) };
        assert!(matches!(err(read_page(text, &url, &opts, true)), PagingError::NotJson { .. }));
        let array_body = page(json!([1, 2]));
        assert!(matches!(err(read_page(array_body, &url, &opts, true)), PagingError::MissingItems { .. }));
        let empty_link = page(json!({"value": [], "nextLink": " "}));
        assert!(read_page(empty_link, &url, &opts, true).unwrap().next.is_none());
        let failed = WireResponse { status: StatusCode::NOT_FOUND, ..page(json!({})) };
        assert!(matches!(err(read_page(failed, &url, &opts, true)), PagingError::Status { .. }));
    }

    #[test]
    fn append_respects_the_limit() {
        let mut merged = vec![json!(1)];
        assert!(!append(&mut merged, vec![json!(2), json!(3)], 3));
        assert!(append(&mut merged, vec![json!(4)], 3));
        assert_eq!(merged.len(), 3);
        assert!(!append(&mut merged, vec![], 3));
    }
}
