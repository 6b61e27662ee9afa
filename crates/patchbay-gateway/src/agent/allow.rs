//! The agent's allow list: the only `host:port` destinations it carries calls to.

use std::fmt;
use url::Url;

/// Destinations an agent may reach, as `host:port` (host compared case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<(String, u16)>,
}

/// Why an allow list entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}` is not host:port ({reason})")]
pub struct AllowError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl AllowList {
    /// Parses entries such as `10.0.0.5:8080`, `erp.local:443` or `[fd00::1]:80`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, AllowError> {
        let mut list = AllowList::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            let refuse = |reason| AllowError { entry: entry.to_owned(), reason };
            let (host, port) = entry.rsplit_once(':').ok_or_else(|| refuse("no port"))?;
            let port = port.parse::<u16>().map_err(|_| refuse("the port is not a number from 0 to 65535"))?;
            if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
                return Err(refuse("the host is empty or holds a URL character"));
            }
            list.entries.push((host.to_ascii_lowercase(), port));
        }
        Ok(list)
    }

    /// Whether a request to `url` may be carried: an http or https URL whose host and port
    /// (or the scheme's default port) are on the list.
    pub fn permits(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else { return false };
        let host = host.to_ascii_lowercase();
        self.entries.iter().any(|(allowed, allowed_port)| *allowed == host && *allowed_port == port)
    }

    /// Whether the list is empty (then nothing is reachable).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.entries.iter().map(|(host, port)| format!("{host}:{port}")).collect();
        f.write_str(&shown.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn only_listed_host_and_port_pass() {
        let list = AllowList::parse(&["10.0.0.5:8080", "ERP.local:443", "[fd00::1]:80"]).unwrap();
        assert!(list.permits(&url("http://10.0.0.5:8080/a?b=c")));
        assert!(list.permits(&url("https://erp.LOCAL/x")));
        assert!(list.permits(&url("http://[fd00::1]/")));
        assert!(!list.permits(&url("http://10.0.0.5:8081/")));
        assert!(!list.permits(&url("http://10.0.0.6:8080/")));
        assert!(!list.permits(&url("http://erp.local/x")), "port 80 is not 443");
        assert!(!list.permits(&url("ftp://10.0.0.5:8080/")));
        assert!(!AllowList::default().permits(&url("http://10.0.0.5:8080/")));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in ["10.0.0.5", "host:http", ":80", "a/b:80", "h:70000"] {
            assert!(AllowList::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
