//! Host-key checking against the `known_hosts` of the Secret, as OpenSSH's
//! `StrictHostKeyChecking=yes`: a host with no entry, or whose key differs from every entry,
//! is refused. Plain, wildcard and hashed (`|1|salt|hash`) host patterns are understood; a
//! `@revoked` entry refuses its key.

use base64::Engine;
use hmac::{Hmac, Mac};
use ssh_key::known_hosts::{Entry, HostPatterns, Marker};

/// Parsed known_hosts content.
#[derive(Debug)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("known_hosts line {line}: {cause}")]
    Parse { line: usize, cause: String },
    #[error("no known_hosts entry for '{host}'")]
    Unknown { host: String },
    #[error("host key of '{host}' does not match known_hosts (key changed?)")]
    Mismatch { host: String },
    #[error("host key of '{host}' is revoked in known_hosts")]
    Revoked { host: String },
    #[error("server offered no host key")]
    NoKey,
}

impl KnownHosts {
    pub fn parse(text: &str) -> Result<Self, HostKeyError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry: Entry = line
                .parse()
                .map_err(|e: ssh_key::Error| HostKeyError::Parse {
                    line: i + 1,
                    cause: e.to_string(),
                })?;
            entries.push(entry);
        }
        Ok(Self { entries })
    }

    /// Checks the raw (wire-format) host key `key` offered by `host` on `port`.
    pub fn check(&self, host: &str, port: Option<u16>, key: &[u8]) -> Result<(), HostKeyError> {
        // OpenSSH writes non-default ports as "[host]:port".
        let name = match port {
            Some(p) if p != 22 => format!("[{host}]:{p}"),
            _ => host.to_string(),
        };
        let mut known_for_host = false;
        for entry in &self.entries {
            if !patterns_match(entry.host_patterns(), &name) {
                continue;
            }
            let entry_key = entry.public_key().to_bytes();
            let same = entry_key.as_deref().is_ok_and(|k| k == key);
            match entry.marker() {
                Some(Marker::Revoked) if same => return Err(HostKeyError::Revoked { host: name }),
                Some(Marker::Revoked) => {}
                // Host certificates are not offered by libssh2; a CA line alone admits nothing.
                Some(Marker::CertAuthority) => {}
                None if same => return Ok(()),
                None => known_for_host = true,
            }
        }
        if known_for_host {
            Err(HostKeyError::Mismatch { host: name })
        } else {
            Err(HostKeyError::Unknown { host: name })
        }
    }
}

fn patterns_match(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::Patterns(list) => {
            let mut matched = false;
            for pattern in list {
                if let Some(negated) = pattern.strip_prefix('!') {
                    if wildcard_match(negated, name) {
                        return false;
                    }
                } else if wildcard_match(pattern, name) {
                    matched = true;
                }
            }
            matched
        }
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
    }
}

/// OpenSSH host pattern: `*` any run, `?` one character, case-insensitive.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let n: Vec<char> = name.to_ascii_lowercase().chars().collect();
    // Iterative matcher with single backtrack point: linear in practice, no recursion.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Decodes the base64 key blob of an OpenSSH public key line (`type base64 [comment]`).
pub fn key_blob(public_key_line: &str) -> Option<Vec<u8>> {
    let b64 = public_key_line.split_whitespace().nth(1)?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+5KGlHqrRt9Mms8j3VnMDqosTSAFyNs/Lu+O2aaIok";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINAUVMJSmqzO1Lljs6KfegUZGRQqfR6LHqUalWA3bTJk";

    #[test]
    fn matches_plain_port_and_refuses_unknown_or_changed() {
        let kh = KnownHosts::parse(&format!("[127.0.0.1]:2222 {ED}\ngithub.com {ED2}\n"))
            .expect("parses");
        let key = key_blob(ED).expect("blob");
        let other = key_blob(ED2).expect("blob");
        assert!(kh.check("127.0.0.1", Some(2222), &key).is_ok());
        assert!(matches!(
            kh.check("127.0.0.1", Some(2222), &other),
            Err(HostKeyError::Mismatch { .. })
        ));
        assert!(matches!(
            kh.check("127.0.0.1", Some(22), &key),
            Err(HostKeyError::Unknown { .. })
        ));
        assert!(kh.check("github.com", None, &other).is_ok());
    }

    #[test]
    fn hashed_and_wildcard_and_revoked() {
        // |1|salt|hash for "github.com", computed with HMAC-SHA1 as ssh-keygen -H does.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).expect("any key size");
        mac.update(b"github.com");
        let hash = mac.finalize().into_bytes();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let text = format!(
            "|1|{}|{} {ED}\n*.example.org,!bad.example.org {ED}\n@revoked * {ED2}\n",
            b64(&salt),
            b64(&hash)
        );
        let kh = KnownHosts::parse(&text).expect("parses");
        let key = key_blob(ED).expect("blob");
        assert!(kh.check("github.com", None, &key).is_ok());
        assert!(kh.check("a.example.org", None, &key).is_ok());
        assert!(kh.check("bad.example.org", None, &key).is_err());
        let revoked = key_blob(ED2).expect("blob");
        assert!(matches!(
            kh.check("a.example.org", None, &revoked),
            Err(HostKeyError::Revoked { .. })
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "x"));
        assert!(wildcard_match("h?st", "host"));
        assert!(!wildcard_match("h?st", "hoost"));
        assert!(wildcard_match("*.a.*", "x.a.b"));
        assert!(!wildcard_match(&"*a".repeat(50), &"b".repeat(60)));
    }
}
