//! Keeping credentials out of every message: URLs lose their user-info, and any secret value
//! the caller handed us is masked wherever it appears (libgit2 sometimes echoes URLs, headers
//! or usernames back in its errors).

/// Masks secrets in text that may reach a condition, an event or a log line.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

const MASK: &str = "***";

impl Redactor {
    /// A redactor masking each of `secrets` (empty strings and very short values are kept
    /// out: masking "a" would garble every message without protecting anything).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s| s.len() >= 3)
            .collect();
        // Longest first, so a secret containing another one is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with URL user-info removed and every known secret masked.
    pub fn redact(&self, text: &str) -> String {
        let mut out = strip_userinfo(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }
}

/// Removes `user:password@` from every `scheme://user:password@host` in `text`.
pub fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace or quote; user-info is up to its last '@'.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `url` without user-info: what we show of a repository address.
pub fn redact_url(url: &str) -> String {
    strip_userinfo(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_userinfo_from_every_url() {
        assert_eq!(
            strip_userinfo("failed https://bob:s3cret@host:8443/r.git and ssh://git@h/x"),
            "failed https://host:8443/r.git and ssh://h/x"
        );
        assert_eq!(strip_userinfo("no url here"), "no url here");
        assert_eq!(strip_userinfo("at end https://u:p@h"), "at end https://h");
    }

    #[test]
    fn masks_secrets_longest_first() {
        let r = Redactor::new(["token-abc", "token-abc-long", "x"]);
        assert_eq!(
            r.redact("got token-abc-long and token-abc, x"),
            "got *** and ***, x"
        );
    }
}
