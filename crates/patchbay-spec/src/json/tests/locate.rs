//! `locate`: pointers to positions.

use super::at;
use crate::json::locate;

const TEXT: &str = r#"{
  "swagger": "2.0",
  "paths": {
    "/items/{id}": {
      "get": { "tags": ["a", "b"], "x~y": null }
    }
  },
  "": [ 10, {"k": true} ]
}"#;

#[test]
fn root_and_members() {
    assert_eq!(locate(TEXT, ""), Some(at(1, 1)));
    assert_eq!(locate(TEXT, "/swagger"), Some(at(2, 14)));
    assert_eq!(locate(TEXT, "/paths"), Some(at(3, 12)));
    assert_eq!(locate(TEXT, "/paths/~1items~1{id}"), Some(at(4, 20)));
    assert_eq!(locate(TEXT, "/paths/~1items~1{id}/get/tags/1"), Some(at(5, 30)));
    assert_eq!(locate(TEXT, "/paths/~1items~1{id}/get/x~0y"), Some(at(5, 43)));
    assert_eq!(locate(TEXT, "/"), Some(at(8, 7)));
    assert_eq!(locate(TEXT, "//1"), Some(at(8, 13)));
    assert_eq!(locate(TEXT, "//1/k"), Some(at(8, 19)));
}

#[test]
fn missing_or_malformed_pointers() {
    assert_eq!(locate(TEXT, "/nope"), None);
    assert_eq!(locate(TEXT, "swagger"), None);
    assert_eq!(locate(TEXT, "/swagger/0"), None);
    assert_eq!(locate(TEXT, "//2"), None);
    assert_eq!(locate(TEXT, "//-"), None);
    assert_eq!(locate(TEXT, "//01"), None);
    assert_eq!(locate(TEXT, "/paths/~2items"), None);
    assert_eq!(locate(TEXT, "/paths/~"), None);
    assert_eq!(locate("", ""), None);
}

#[test]
fn duplicate_keys_pick_the_last_one() {
    let text = "{\"a\": {\"b\": 1}, \"a\": {\"c\": 2}, \"d\": {\"e\": 3, \"e\": 4}}";
    assert_eq!(locate(text, "/a"), Some(at(1, 22)));
    assert_eq!(locate(text, "/a/b"), None);
    assert_eq!(locate(text, "/a/c"), Some(at(1, 28)));
    assert_eq!(locate(text, "/d/e"), Some(at(1, 51)));
}

#[test]
fn leniencies_are_scanned_like_read() {
    let text = "// c\n{\"a\": [1, /* x */ 2,],\u{A0}\"b\": \"t\tab\",}";
    assert_eq!(locate(text, "/a/1"), Some(at(2, 19)));
    assert_eq!(locate(text, "/b"), Some(at(2, 29)));
}

#[test]
fn broken_text_is_located_up_to_the_defect() {
    let text = "{\"a\": [1, 2], \"b\": 3 \"c\": 4}";
    assert_eq!(locate(text, "/a/1"), Some(at(1, 11)));
    assert_eq!(locate(text, "/b"), Some(at(1, 20)));
    assert_eq!(locate(text, "/c"), None);
}
