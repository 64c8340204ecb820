//! Repository addresses: which transport, which host and port (for known_hosts), and the
//! redacted form shown in messages.

use crate::error::SourceError;
use crate::redact::redact_url;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https,
    Ssh,
    Git,
    File,
}

impl Transport {
    /// libgit2's local transport cannot fetch shallow ("shallow fetch is not supported by the
    /// local transport"); every network transport can.
    pub fn supports_shallow(self) -> bool {
        self != Self::File
    }
}

/// A parsed repository URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoUrl {
    /// What libgit2 is given.
    pub url: String,
    pub transport: Transport,
    pub host: String,
    pub port: Option<u16>,
    /// The user named in an ssh URL (`git` when absent).
    pub user: Option<String>,
}

impl RepoUrl {
    pub fn parse(raw: &str) -> Result<Self, SourceError> {
        let invalid = |cause: &str| SourceError::InvalidUrl {
            url: redact_url(raw),
            cause: cause.to_string(),
        };
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("empty"));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("contains whitespace or control characters"));
        }
        if !raw.contains("://") {
            // Flux's CRD requires a scheme; scp-like `user@host:path` is spelled out as ssh://.
            let hint = match raw.split_once(':') {
                Some((authority, path)) if !authority.is_empty() && !authority.contains('/') => {
                    format!(
                        "no scheme: for ssh write 'ssh://{authority}/{}'",
                        path.trim_start_matches('/')
                    )
                }
                _ => "no scheme (expected https://, ssh://, git:// or file://)".to_string(),
            };
            return Err(invalid(&hint));
        }
        let url = raw.to_string();
        let (scheme, rest) = url.split_once("://").expect("url has a scheme separator");
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.to_string();
        let transport = match scheme.as_str() {
            "http" => Transport::Http,
            "https" => Transport::Https,
            "ssh" => Transport::Ssh,
            "git" => Transport::Git,
            "file" => Transport::File,
            other => return Err(invalid(&format!("unsupported scheme '{other}'"))),
        };
        if transport == Transport::File {
            if !rest.starts_with('/') {
                return Err(invalid("file:// needs an absolute path"));
            }
            return Ok(Self {
                url,
                transport,
                host: String::new(),
                port: None,
                user: None,
            });
        }
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
                let user = userinfo.split(':').next().unwrap_or_default().to_string();
                (Some(user).filter(|u| !u.is_empty()), hp)
            }
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| invalid("invalid port"))?;
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'))
        {
            return Err(invalid("invalid host name"));
        }
        if matches!(transport, Transport::Http | Transport::Https) && user.is_some() {
            return Err(invalid(
                "credentials in the url are not allowed: use spec.secretRef",
            ));
        }
        Ok(Self {
            url,
            transport,
            host,
            port,
            user,
        })
    }

    /// The address without user-info, for messages.
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }
}

fn split_host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        // [v6]:port
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), Some(port.parse().ok()?))),
        None => Some((hostport.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_transport() {
        let u = RepoUrl::parse("ssh://git@127.0.0.1:2222/repo.git").expect("valid");
        assert_eq!(
            (u.transport, u.host.as_str(), u.port),
            (Transport::Ssh, "127.0.0.1", Some(2222))
        );
        assert_eq!(u.user.as_deref(), Some("git"));
        let err =
            RepoUrl::parse("git@github.com:org/repo.git").expect_err("scp-like refused as in Flux");
        assert!(
            err.to_string()
                .contains("ssh://git@github.com/org/repo.git"),
            "{err}"
        );
        let u = RepoUrl::parse("https://example.com/r.git").expect("valid");
        assert_eq!((u.transport, u.port), (Transport::Https, None));
        assert_eq!(
            RepoUrl::parse("file:///tmp/r").expect("valid").transport,
            Transport::File
        );
        assert_eq!(
            RepoUrl::parse("git://h:9418/r").expect("valid").port,
            Some(9418)
        );
    }

    #[test]
    fn refuses_bad_urls_without_echoing_credentials() {
        for bad in [
            "",
            "ftp://h/r",
            "https://h:99999/r",
            "no-scheme",
            "file://relative",
            "https:///r",
        ] {
            assert!(RepoUrl::parse(bad).is_err(), "{bad}");
        }
        let err = RepoUrl::parse("https://bob:s3cret@h/r").expect_err("userinfo refused");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
