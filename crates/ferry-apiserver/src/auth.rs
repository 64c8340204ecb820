//! Bearer-token authentication from a static tokens file, in kube-apiserver's
//! `--token-auth-file` format: `token,user,uid[,"group1,group2"]` per line.

use std::{collections::HashMap, path::Path};

use axum::http::{HeaderMap, header};

use crate::status::ApiError;

/// Who a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("reading tokens file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("tokens file {path} line {line}: expected token,user,uid[,\"groups\"]")]
    Malformed { path: String, line: usize },
    #[error("tokens file {path} holds no token")]
    Empty { path: String },
}

/// The accepted tokens.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    tokens: HashMap<String, User>,
    /// Who a request without credentials is (plain HTTP on loopback only, see
    /// [`Auth::allow_anonymous_admin`]); `None` answers it with 401.
    anonymous: Option<User>,
}

impl Auth {
    /// One token for the cluster administrator (`system:masters`).
    pub fn single_admin(token: &str) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(
            token.to_owned(),
            User {
                name: "admin".into(),
                uid: "admin".into(),
                groups: vec!["system:masters".into(), "system:authenticated".into()],
            },
        );
        Self {
            tokens,
            anonymous: None,
        }
    }

    /// Serves requests that carry no credentials as the administrator, as kube-apiserver's
    /// (removed) insecure port did: client-go and kubectl never send a bearer token over plain
    /// HTTP, so a plain-HTTP server is unusable for them otherwise. A wrong token is still 401.
    pub fn allow_anonymous_admin(mut self) -> Self {
        self.anonymous = Some(User {
            name: "admin".into(),
            uid: "admin".into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
        });
        self
    }

    /// Parses a tokens file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, AuthError> {
        let shown = path.display().to_string();
        let mut tokens = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = Vec::new();
            let mut current = String::new();
            let mut quoted = false;
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut current)),
                    _ => current.push(c),
                }
            }
            fields.push(current);
            if fields.len() < 3 || fields[0].is_empty() || fields[1].is_empty() {
                return Err(AuthError::Malformed {
                    path: shown,
                    line: i + 1,
                });
            }
            let mut groups: Vec<String> = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            groups.push("system:authenticated".into());
            tokens.insert(
                fields[0].clone(),
                User {
                    name: fields[1].clone(),
                    uid: fields[2].clone(),
                    groups,
                },
            );
        }
        if tokens.is_empty() {
            return Err(AuthError::Empty { path: shown });
        }
        Ok(Self {
            tokens,
            anonymous: None,
        })
    }

    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// The user a request's `Authorization: Bearer` header names, or 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<&User, ApiError> {
        let header = headers.get(header::AUTHORIZATION);
        if let (None, Some(anonymous)) = (header, &self.anonymous) {
            return Ok(anonymous);
        }
        let token = header
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        self.tokens.get(token).ok_or_else(ApiError::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kube_apiserver_token_files() {
        let auth = Auth::parse(
            Path::new("t"),
            "# comment\nabc,alice,1,\"dev,ops\"\nxyz,bob,2\n",
        )
        .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        let user = auth.authenticate(&headers).unwrap();
        assert_eq!(user.name, "alice");
        assert_eq!(user.groups, ["dev", "ops", "system:authenticated"]);
        headers.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert_eq!(auth.authenticate(&headers).unwrap_err().code, 401);
        assert!(Auth::parse(Path::new("t"), "onlytoken\n").is_err());
        headers.remove(header::AUTHORIZATION);
        assert_eq!(auth.authenticate(&headers).unwrap_err().code, 401);
        let open = auth.allow_anonymous_admin();
        assert_eq!(open.authenticate(&headers).unwrap().name, "admin");
        headers.insert(header::AUTHORIZATION, "Bearer nope".parse().unwrap());
        assert_eq!(open.authenticate(&headers).unwrap_err().code, 401);
    }
}
