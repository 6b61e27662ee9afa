//! Built-in endpoints of named identity providers (`github`, `google`, …).

/// A named provider's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Provider {
    /// The authorization endpoint.
    pub authorize: &'static str,
    /// The token endpoint (also used to refresh).
    pub token: &'static str,
    /// How scopes are joined.
    pub scope_delimiter: &'static str,
}

/// Lower-case provider names and their endpoints.
const PROVIDERS: &[(&str, Provider)] = &[
    (
        "github",
        p("https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token", " "),
    ),
    ("google", p("https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token", " ")),
    (
        "dropbox",
        p("https://www.dropbox.com/oauth2/authorize", "https://api.dropboxapi.com/oauth2/token", " "),
    ),
    (
        "salesforce",
        p(
            "https://login.salesforce.com/services/oauth2/authorize",
            "https://login.salesforce.com/services/oauth2/token",
            " ",
        ),
    ),
    (
        "microsoftaccount",
        p(
            "https://login.microsoftonline.com/consumers/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/consumers/oauth2/v2.0/token",
            " ",
        ),
    ),
    ("slack", p("https://slack.com/oauth/v2/authorize", "https://slack.com/api/oauth.v2.access", ",")),
    (
        "facebook",
        p(
            "https://www.facebook.com/v19.0/dialog/oauth",
            "https://graph.facebook.com/v19.0/oauth/access_token",
            ",",
        ),
    ),
    (
        "linkedin",
        p(
            "https://www.linkedin.com/oauth/v2/authorization",
            "https://www.linkedin.com/oauth/v2/accessToken",
            " ",
        ),
    ),
    (
        "docusign",
        p("https://account.docusign.com/oauth/auth", "https://account.docusign.com/oauth/token", " "),
    ),
];

const fn p(authorize: &'static str, token: &'static str, scope_delimiter: &'static str) -> Provider {
    Provider { authorize, token, scope_delimiter }
}

/// The built-in endpoints of a named provider, by case-insensitive name.
pub(crate) fn named_provider(name: &str) -> Option<Provider> {
    PROVIDERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_case_insensitive() {
        assert_eq!(
            named_provider("GitHub").map(|p| p.token),
            Some("https://github.com/login/oauth/access_token")
        );
        assert_eq!(named_provider("Slack").map(|p| p.scope_delimiter), Some(","));
        assert!(named_provider("contoso").is_none());
    }
}
