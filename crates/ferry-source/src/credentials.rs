//! Credentials for a git remote, read from a Secret's data with Flux's keys.

use std::collections::BTreeMap;
use std::fmt;

/// What a `spec.secretRef` Secret may hold (Flux keys): `username`/`password` (HTTPS basic),
/// `bearerToken`, `ca.crt` (or legacy `caFile`), `identity` + `known_hosts` (SSH; `password`
/// is then the identity's passphrase).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    pub bearer_token: Option<String>,
    /// PEM CA certificate(s) trusted for HTTPS in addition to the system roots.
    pub ca_cert: Option<Vec<u8>>,
    /// PEM/OpenSSH private key for SSH.
    pub identity: Option<String>,
    /// `known_hosts` lines; SSH refuses any host key not listed here.
    pub known_hosts: Option<String>,
}

/// A Secret value that is not what its key requires.
#[derive(Debug, thiserror::Error)]
#[error("secret key '{key}': {cause}")]
pub struct CredentialsError {
    pub key: String,
    pub cause: String,
}

impl Credentials {
    /// No credentials: anonymous access.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads Flux's keys from a Secret's decoded `data`.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, CredentialsError> {
        let text = |key: &str| -> Result<Option<String>, CredentialsError> {
            data.get(key)
                .map(|v| {
                    String::from_utf8(v.clone()).map_err(|_| CredentialsError {
                        key: key.to_string(),
                        cause: "not valid UTF-8".into(),
                    })
                })
                .transpose()
        };
        let creds = Self {
            username: text("username")?,
            password: text("password")?,
            bearer_token: text("bearerToken")?,
            ca_cert: data.get("ca.crt").or_else(|| data.get("caFile")).cloned(),
            identity: text("identity")?,
            known_hosts: text("known_hosts")?,
        };
        if creds.bearer_token.is_some() && creds.username.is_some() {
            return Err(CredentialsError {
                key: "bearerToken".into(),
                cause: "cannot be combined with 'username'".into(),
            });
        }
        Ok(creds)
    }

    /// Every secret value, for redaction.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.password.clone());
        out.extend(self.bearer_token.clone());
        out.extend(self.identity.clone());
        out
    }
}

impl fmt::Debug for Credentials {
    // Never print secret values, even in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "***"))
            .field("ca_cert", &self.ca_cert.as_ref().map(|c| c.len()))
            .field("identity", &self.identity.as_ref().map(|_| "***"))
            .field("known_hosts", &self.known_hosts.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flux_keys_and_hides_them_in_debug() {
        let data = BTreeMap::from([
            ("username".to_string(), b"bob".to_vec()),
            ("password".to_string(), b"hunter22".to_vec()),
            ("caFile".to_string(), b"PEM".to_vec()),
        ]);
        let c = Credentials::from_secret_data(&data).expect("valid secret");
        assert_eq!(c.username.as_deref(), Some("bob"));
        assert_eq!(c.ca_cert.as_deref(), Some(&b"PEM"[..]));
        assert!(!format!("{c:?}").contains("hunter22"));
        assert_eq!(c.secret_values(), vec!["hunter22".to_string()]);
    }

    #[test]
    fn bearer_and_basic_together_are_refused() {
        let data = BTreeMap::from([
            ("username".to_string(), b"bob".to_vec()),
            ("bearerToken".to_string(), b"t".to_vec()),
        ]);
        assert!(Credentials::from_secret_data(&data).is_err());
    }
}
