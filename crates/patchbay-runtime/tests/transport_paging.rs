//! `x-ms-pageable` against a real HTTP server: three pages, absolute and relative next links,
//! limits that cut a page or stop at a boundary, and a failing page.

mod support_transport;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap as AxumHeaders, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::get as get_route;
use http::{HeaderMap, HeaderValue};
use patchbay_runtime::transport::{PageOptions, PagingError, RetryPolicy};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use support_transport::{Counter, get, loopback, serve, serve_with, url};

/// `/items?page=1..3`, two items each. Page 1 links absolutely, page 2 relatively; page 3 is last.
/// Every page needs the bearer token; `/items?page=2&fail=1` answers 500.
fn item_server(port: u16, page_three_reads: &Counter) -> Router {
    let reads = page_three_reads.clone();
    let items = move |headers: AxumHeaders, Query(query): Query<HashMap<String, String>>| async move {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer t") {
            return (AxumStatus::UNAUTHORIZED, "who are you").into_response();
        }
        let page = query.get("page").map(String::as_str).unwrap_or("1");
        let body = match page {
            "1" => {
                let fail = if query.contains_key("fail") { "&fail=1" } else { "" };
                let next = format!("http://127.0.0.1:{port}/items?page=2{fail}");
                json!({"value": [1, 2], "@odata.nextLink": next, "@odata.count": 6})
            }
            "2" if query.contains_key("fail") => return AxumStatus::INTERNAL_SERVER_ERROR.into_response(),
            "2" => json!({"value": [3, 4], "@odata.nextLink": "items?page=3"}),
            _ => {
                reads.hit();
                json!({"value": [5, 6]})
            }
        };
        ([("content-type", "application/json")], body.to_string()).into_response()
    };
    Router::new().route("/items", get_route(items))
}

async fn start(page_three_reads: &Counter) -> SocketAddr {
    serve_with(|addr| item_server(addr.port(), page_three_reads)).await
}

fn bearer() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer t"));
    headers
}

fn options(limit: usize) -> PageOptions {
    PageOptions { limit, retry: RetryPolicy::None, ..PageOptions::new("@odata.nextLink") }
}

async fn collect(addr: SocketAddr, query: &str, limit: usize) -> Result<serde_json::Value, PagingError> {
    let transport = loopback();
    let first_url = url(addr, &format!("/items{query}"));
    let mut request = get(first_url.clone());
    request.headers = bearer();
    let first = transport.send(request).await.unwrap();
    transport.collect_pages(first, &first_url, &options(limit), bearer()).await
}

#[tokio::test]
async fn all_pages_are_merged_and_the_link_removed() {
    let page_three = Counter::default();
    let addr = start(&page_three).await;
    let merged = collect(addr, "", 100).await.unwrap();
    assert_eq!(merged, json!({"value": [1, 2, 3, 4, 5, 6], "@odata.count": 6}));
    assert_eq!(page_three.get(), 1);
}

#[tokio::test]
async fn a_limit_that_cuts_the_third_page_drops_the_rest_and_the_link() {
    let page_three = Counter::default();
    let addr = start(&page_three).await;
    let merged = collect(addr, "", 5).await.unwrap();
    assert_eq!(merged, json!({"value": [1, 2, 3, 4, 5], "@odata.count": 6}));
    assert_eq!(page_three.get(), 1);
}

#[tokio::test]
async fn a_limit_on_a_page_boundary_keeps_the_link_to_the_rest() {
    let page_three = Counter::default();
    let addr = start(&page_three).await;
    let merged = collect(addr, "", 4).await.unwrap();
    let rest = url(addr, "/items?page=3").to_string();
    assert_eq!(merged, json!({"value": [1, 2, 3, 4], "@odata.nextLink": rest, "@odata.count": 6}));
    assert_eq!(page_three.get(), 0, "the third page is not read");
}

#[tokio::test]
async fn a_failing_page_is_an_error_naming_it() {
    let page_three = Counter::default();
    let addr = start(&page_three).await;
    match collect(addr, "?fail=1", 100).await {
        Err(PagingError::Status { url, response }) => {
            assert_eq!(url.query(), Some("page=2&fail=1"));
            assert_eq!(response.status.as_u16(), 500);
        }
        other => panic!("expected a status error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_page_that_links_to_itself_stops_paging() {
    let addr = serve(
        Router::new()
            .route("/loop", get_route(|| async { json!({"value": [1], "nextLink": "/loop"}).to_string() })),
    )
    .await;
    let transport = loopback();
    let first_url = url(addr, "/loop");
    let first = transport.send(get(first_url.clone())).await.unwrap();
    let merged = transport
        .collect_pages(
            first,
            &first_url,
            &PageOptions { retry: RetryPolicy::None, ..Default::default() },
            HeaderMap::new(),
        )
        .await
        .unwrap();
    assert_eq!(merged, json!({"value": [1]}));
}
