//! `updatenextlink` (spec §4.8): in a response, the absolute next-page link at
//! `<nextLinkParentPropertyPath>.<nextLinkPropertyName>` (default parent: the body root) is
//! rewritten to point back at the platform, so a workflow engine that follows it comes through the
//! same connection (auth and policies) again.
//!
//! The server that answers such links does not exist yet, so the rewrite is a pure function:
//! [`rewrite_next_link`] (or [`NextLinkLocation::rewrite`]) takes the rewrite to apply, and
//! [`NextLinkRewrite`] is the one the server will plug in: it resolves relative links against the
//! backend request URL and rewrites only links on that URL's origin (open-redirect guard). Until
//! then the compiled [`Behavior`] only normalises the link (trims white space around an absolute
//! link; leaves relative links, since the response stage does not carry the request URL), which
//! also keeps the links usable by the runtime's own paging (`x-ms-pageable`). The pipeline finds an
//! operation's link location with [`next_link_location`]. Note that corpus instances usually have
//! no `policySection`, so they are compiled into the request section, where they do nothing.

use super::{Behavior, BodyPath, Params, PathRoot, PolicyError, ResponseStage};
use crate::response::ResponseBody;
use patchbay_spec::Connector;
use patchbay_spec::model::PolicyTemplate;
use serde_json::Value;
use url::Url;

/// Where a response keeps its next link (`nextLinkParentPropertyPath`, `nextLinkPropertyName`).
#[derive(Debug, Clone, PartialEq)]
pub struct NextLinkLocation {
    /// The object holding the link; `None` for the body root.
    pub parent: Option<BodyPath>,
    /// The property name, taken literally (`@odata.nextLink` is one name, not a path).
    pub name: String,
}

impl NextLinkLocation {
    /// Reads the instance's parameters.
    pub fn from_params(params: &Params) -> Result<Self, PolicyError> {
        let name = params.required_text("nextLinkPropertyName")?.trim().to_string();
        if name.is_empty() {
            let reason = "it is empty".to_string();
            return Err(PolicyError::BadParameter { name: "nextLinkPropertyName".into(), reason });
        }
        let parent = match params.text("nextLinkParentPropertyPath") {
            Some(text) => parent_path(&text)?,
            None => None,
        };
        Ok(NextLinkLocation { parent, name })
    }

    /// The link in `body`, when there is a string there.
    pub fn link<'a>(&self, body: &'a Value) -> Option<&'a str> {
        let holder = match &self.parent {
            Some(p) => p.get(body)?,
            None => body,
        };
        let map = holder.as_object()?;
        map.get(&self.name)
            .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(&self.name)).map(|(_, v)| v))?
            .as_str()
    }

    /// Rewrites the link in `body` with `rewrite` (`None` keeps it); true when it changed.
    pub fn rewrite(&self, body: &mut Value, rewrite: &dyn Fn(&str) -> Option<String>) -> bool {
        rewrite_next_link(body, self.parent.as_ref(), &self.name, rewrite)
    }
}

/// `@body().a`, a bare `a.b`, or empty/`"null"` for the root.
fn parent_path(text: &str) -> Result<Option<BodyPath>, PolicyError> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    let path = if text.starts_with('@') {
        BodyPath::parse(text)
    } else {
        BodyPath::parse(&format!("@body().{text}"))
    };
    match path {
        Some(p) if p.root == PathRoot::Body => Ok(Some(p)),
        _ => Err(PolicyError::BadParameter {
            name: "nextLinkParentPropertyPath".into(),
            reason: format!("`{text}` is not a path such as @body().paging"),
        }),
    }
}

/// Replaces the string at `parent.name` (the name matched exactly, else ignoring case) with what
/// `rewrite` returns for it; true when the body changed. Missing links and non-strings are left.
pub fn rewrite_next_link(
    body: &mut Value,
    parent: Option<&BodyPath>,
    name: &str,
    rewrite: &dyn Fn(&str) -> Option<String>,
) -> bool {
    let holder = match parent {
        Some(p) => p.get_mut(body),
        None => Some(body),
    };
    let Some(Value::Object(map)) = holder else { return false };
    let key = if map.contains_key(name) {
        name.to_string()
    } else {
        match map.keys().find(|k| k.eq_ignore_ascii_case(name)) {
            Some(k) => k.clone(),
            None => return false,
        }
    };
    let Some(Value::String(link)) = map.get(&key) else { return false };
    match rewrite(link) {
        Some(new) if new != *link => {
            map.insert(key, Value::String(new));
            true
        }
        _ => false,
    }
}

/// The rewrite the server plugs in: backend link → platform link (spec §4.8 rewrite design).
pub struct NextLinkRewrite<'a> {
    /// The backend request whose response carries the link: relative links are resolved against
    /// it, and only links on its origin are rewritten.
    pub request_url: &'a Url,
    /// Builds the platform URL standing for a backend URL (e.g. `…/__next?u=<base64url(url)>&op=…`).
    pub to_platform: &'a dyn Fn(&Url) -> String,
}

impl NextLinkRewrite<'_> {
    /// The platform link for `link`, or `None` (left as it is) when it is not an http(s) URL on
    /// the backend request's origin.
    pub fn apply(&self, link: &str) -> Option<String> {
        let target = resolve(link, Some(self.request_url))?;
        (target.origin() == self.request_url.origin()).then(|| (self.to_platform)(&target))
    }
}

/// `link` as an absolute http(s) URL: as it is, or resolved against `base` when relative.
fn resolve(link: &str, base: Option<&Url>) -> Option<Url> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let url = match Url::parse(link) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => base?.join(link).ok()?,
        Err(_) => return None,
    };
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The normalised link: absolute links trimmed, relative ones resolved when `request_url` is
/// known; `None` when there is nothing to change.
pub fn normalise_next_link(link: &str, request_url: Option<&Url>) -> Option<String> {
    let url = resolve(link, request_url)?;
    let relative = Url::parse(link.trim()).is_err();
    let text = if relative { url.to_string() } else { link.trim().to_string() };
    (text != link).then_some(text)
}

/// The location of the next link for an operation, from its first `updatenextlink` instance.
pub fn next_link_location(
    connector: &Connector,
    operation_id: &str,
) -> Option<Result<NextLinkLocation, PolicyError>> {
    let instance = connector
        .policies
        .iter()
        .find(|p| p.template() == Some(PolicyTemplate::UpdateNextLink) && p.applies_to(operation_id))?;
    Some(NextLinkLocation::from_params(&Params::new(instance)))
}

struct UpdateNextLink {
    location: NextLinkLocation,
}

/// Builds the policy.
pub fn build(params: &Params) -> Result<Box<dyn Behavior>, PolicyError> {
    Ok(Box::new(UpdateNextLink { location: NextLinkLocation::from_params(params)? }))
}

impl Behavior for UpdateNextLink {
    fn on_response(&self, stage: &mut ResponseStage<'_>) -> Result<(), PolicyError> {
        if let ResponseBody::Json(body) = stage.body {
            self.location.rewrite(body, &|link| normalise_next_link(link, None));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{params, response_json};
    use serde_json::json;

    fn location(pairs: &[(&str, Value)]) -> NextLinkLocation {
        NextLinkLocation::from_params(&params("updatenextlink", pairs)).unwrap()
    }

    fn platform(url: &Url) -> String {
        let u = crate::policy::encode_property_value::encode(url.as_str());
        format!("https://runtime.example/apim/contoso-tasks/c1/__next?u={u}&op=ListTasks")
    }

    #[test]
    fn spec_example_rewrites_a_link_on_the_backend_origin() {
        let request = Url::parse("https://api.contoso.example/v1/tasks?$top=2").unwrap();
        let rw = NextLinkRewrite { request_url: &request, to_platform: &platform };
        let loc = location(&[("nextLinkPropertyName", json!("@odata.nextLink"))]);
        let mut body =
            json!({"value": [1], "@odata.nextLink": "https://api.contoso.example/v1/tasks?$skiptoken=abc"});
        assert!(loc.rewrite(&mut body, &|l| rw.apply(l)));
        assert_eq!(
            body,
            json!({"value": [1],
                   "@odata.nextLink": "https://runtime.example/apim/contoso-tasks/c1/__next?\
                        u=https%3A%2F%2Fapi.contoso.example%2Fv1%2Ftasks%3F%24skiptoken%3Dabc&op=ListTasks"})
        );
    }

    #[test]
    fn links_elsewhere_are_not_rewritten_and_relative_ones_are_resolved() {
        let request = Url::parse("https://api.contoso.example/v1/tasks").unwrap();
        let seen = |url: &Url| format!("P:{url}");
        let rw = NextLinkRewrite { request_url: &request, to_platform: &seen };
        assert_eq!(rw.apply("https://evil.example/v1/tasks?page=2"), None);
        assert_eq!(rw.apply("http://api.contoso.example/v1/tasks?page=2"), None); // other scheme
        assert_eq!(rw.apply("https://api.contoso.example:8443/x"), None); // other port
        assert_eq!(rw.apply("javascript:alert(1)"), None);
        assert_eq!(rw.apply(""), None);
        assert_eq!(
            rw.apply("tasks?page=3").as_deref(),
            Some("P:https://api.contoso.example/v1/tasks?page=3")
        );
        assert_eq!(rw.apply("//evil.example/x"), None);
        assert_eq!(rw.apply("/v2/all?p=1").as_deref(), Some("P:https://api.contoso.example/v2/all?p=1"));
    }

    #[test]
    fn nested_parent_and_missing_links() {
        let loc = location(&[
            ("nextLinkPropertyName", json!("next")),
            ("nextLinkParentPropertyPath", json!("@body().paging")),
        ]);
        let mut body = json!({"data": [], "paging": {"next": "https://a.example/p2"}});
        assert_eq!(loc.link(&body), Some("https://a.example/p2"));
        assert!(loc.rewrite(&mut body, &|l| Some(format!("{l}#x"))));
        assert_eq!(body["paging"]["next"], json!("https://a.example/p2#x"));
        let mut none = json!({"data": []});
        assert!(!loc.rewrite(&mut none, &|_| Some("x".into())));
        let mut number = json!({"paging": {"next": 3}});
        assert!(!loc.rewrite(&mut number, &|_| Some("x".into())));
        let bare = location(&[
            ("nextLinkPropertyName", json!("next")),
            ("nextLinkParentPropertyPath", json!("a.b")),
        ]);
        assert_eq!(bare.parent, BodyPath::parse("@body().a.b"));
        assert!(
            NextLinkLocation::from_params(&params(
                "updatenextlink",
                &[("nextLinkPropertyName", json!("n")), ("nextLinkParentPropertyPath", json!("@item().x"))]
            ))
            .is_err()
        );
    }

    #[test]
    fn the_behavior_only_normalises() {
        let p =
            build(&params("updatenextlink", &[("nextLinkPropertyName", json!("@odata.nextLink"))])).unwrap();
        let body = json!({"@odata.nextLink": "  https://api.example/p2 "});
        assert_eq!(
            response_json(p.as_ref(), body).unwrap(),
            json!({"@odata.nextLink": "https://api.example/p2"})
        );
        for kept in
            [json!({"@odata.nextLink": "page2"}), json!({"@odata.nextLink": "https://api.example/p2"})]
        {
            assert_eq!(response_json(p.as_ref(), kept.clone()).unwrap(), kept);
        }
        let base = Url::parse("https://api.example/v1/items").unwrap();
        assert_eq!(
            normalise_next_link("items?p=2", Some(&base)).as_deref(),
            Some("https://api.example/v1/items?p=2")
        );
    }

    #[test]
    fn location_of_an_operation() {
        let mut connector = Connector::default();
        let instance = patchbay_spec::model::PolicyInstance {
            template_id: "UpdateNextLink".into(),
            title: None,
            operations: vec!["ListTasks".into()],
            section: None,
            parameters: json!({"nextLinkPropertyName": "@odata.nextLink"}).as_object().unwrap().clone(),
            parameters_extra: Default::default(),
            extra: Default::default(),
        };
        connector.policies.push(instance);
        let loc = next_link_location(&connector, "ListTasks").unwrap().unwrap();
        assert_eq!(loc, NextLinkLocation { parent: None, name: "@odata.nextLink".into() });
        assert!(next_link_location(&connector, "Other").is_none());
    }
}
