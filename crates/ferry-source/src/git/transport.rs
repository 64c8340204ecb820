//! libgit2 remote callbacks: credentials (basic, ssh key), host-key and TLS checks, the
//! deadline and the transfer-size limit. The callbacks record why they refused something so
//! the caller can report the real cause instead of libgit2's generic "user cancelled".

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use git2::{CertificateCheckStatus, Cred, CredentialType, RemoteCallbacks};

use crate::credentials::Credentials;
use crate::error::SourceError;
use crate::git::known_hosts::KnownHosts;
use crate::git::url::{RepoUrl, Transport};
use crate::redact::Redactor;

/// Objects and bytes received by one fetch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchStats {
    pub received_objects: usize,
    pub received_bytes: usize,
    /// Network round trips skipped entirely (the wanted commit was already cached).
    pub network: bool,
}

/// Everything the callbacks of one fetch share.
pub struct Session<'a> {
    pub url: &'a RepoUrl,
    creds: &'a Credentials,
    known_hosts: Option<KnownHosts>,
    pub redactor: &'a Redactor,
    deadline: Instant,
    pub timeout: Duration,
    max_bytes: u64,
    auth_attempts: Cell<u32>,
    refused: RefCell<Option<SourceError>>,
    /// Why the secret's CA did not verify the server (reported if the system roots refuse too).
    ca_note: RefCell<Option<String>>,
    timed_out: Cell<bool>,
    too_big: Cell<bool>,
    stats: Cell<FetchStats>,
}

impl<'a> Session<'a> {
    pub fn new(
        url: &'a RepoUrl,
        creds: &'a Credentials,
        redactor: &'a Redactor,
        timeout: Duration,
        max_bytes: u64,
    ) -> Result<Self, SourceError> {
        let known_hosts = match (&creds.known_hosts, url.transport) {
            (Some(text), _) => {
                Some(
                    KnownHosts::parse(text).map_err(|e| SourceError::InvalidCredentials {
                        url: url.redacted(),
                        cause: e.to_string(),
                    })?,
                )
            }
            (None, _) => None,
        };
        Ok(Self {
            url,
            creds,
            known_hosts,
            redactor,
            deadline: Instant::now() + timeout,
            timeout,
            max_bytes,
            auth_attempts: Cell::new(0),
            refused: RefCell::new(None),
            ca_note: RefCell::new(None),
            timed_out: Cell::new(false),
            too_big: Cell::new(false),
            stats: Cell::new(FetchStats::default()),
        })
    }

    /// `Authorization: Bearer <token>` for HTTP(S) remotes with a `bearerToken`.
    pub fn bearer_header(&self) -> Option<String> {
        match (self.url.transport, &self.creds.bearer_token) {
            (Transport::Http | Transport::Https, Some(token)) => {
                Some(format!("Authorization: Bearer {token}"))
            }
            _ => None,
        }
    }

    pub fn stats(&self) -> FetchStats {
        self.stats.get()
    }

    fn refuse(&self, err: SourceError) -> git2::Error {
        let msg = err.to_string();
        *self.refused.borrow_mut() = Some(err);
        git2::Error::from_str(&msg)
    }

    fn past_deadline(&self) -> bool {
        if Instant::now() > self.deadline {
            self.timed_out.set(true);
            true
        } else {
            false
        }
    }

    /// The callbacks for one libgit2 network operation.
    pub fn callbacks(&self) -> RemoteCallbacks<'_> {
        let mut cb = RemoteCallbacks::new();
        cb.credentials(|_url, user_from_url, allowed| self.credentials(user_from_url, allowed));
        cb.certificate_check(|cert, host| self.certificate_check(cert, host));
        cb.transfer_progress(|progress| {
            let mut stats = self.stats.get();
            stats.received_objects = progress.received_objects();
            stats.received_bytes = progress.received_bytes();
            stats.network = true;
            self.stats.set(stats);
            if progress.received_bytes() as u64 > self.max_bytes {
                self.too_big.set(true);
                return false;
            }
            !self.past_deadline()
        });
        cb.sideband_progress(|_| !self.past_deadline());
        cb
    }

    fn credentials(
        &self,
        user_from_url: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        if self.past_deadline() {
            return Err(git2::Error::from_str("deadline exceeded"));
        }
        let user = user_from_url
            .map(str::to_string)
            .or_else(|| self.url.user.clone())
            .or_else(|| self.creds.username.clone())
            .unwrap_or_else(|| "git".to_string());
        // libssh2 first asks for the user name alone; that is not an authentication attempt.
        if allowed.contains(CredentialType::USERNAME) && !allowed.contains(CredentialType::SSH_KEY)
        {
            return Cred::username(&user);
        }
        let attempt = self.auth_attempts.get() + 1;
        self.auth_attempts.set(attempt);
        // libgit2 asks again after every rejection: a second request means the first was refused.
        if attempt > 1 {
            return Err(self.refuse(SourceError::Authentication {
                url: self.url.redacted(),
                cause: "the server rejected the credentials".into(),
            }));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            let Some(identity) = &self.creds.identity else {
                return Err(self.refuse(SourceError::Authentication {
                    url: self.url.redacted(),
                    cause: "ssh needs an 'identity' private key in the secret".into(),
                }));
            };
            return Cred::ssh_key_from_memory(
                &user,
                None,
                identity,
                self.creds.password.as_deref(),
            )
            .map_err(|e| {
                self.refuse(SourceError::InvalidCredentials {
                    url: self.url.redacted(),
                    cause: format!("identity: {}", self.redactor.redact(e.message())),
                })
            });
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let (Some(u), Some(p)) = (&self.creds.username, &self.creds.password) {
                return Cred::userpass_plaintext(u, p);
            }
            let cause = if self.creds.bearer_token.is_some() {
                "the server rejected the bearer token"
            } else {
                "the server requires credentials (username/password or bearerToken in the secret)"
            };
            return Err(self.refuse(SourceError::Authentication {
                url: self.url.redacted(),
                cause: cause.into(),
            }));
        }
        Err(self.refuse(SourceError::Authentication {
            url: self.url.redacted(),
            cause: format!("no supported credential type (server allows {allowed:?})"),
        }))
    }

    fn certificate_check(
        &self,
        cert: &git2::cert::Cert<'_>,
        host: &str,
    ) -> Result<CertificateCheckStatus, git2::Error> {
        if let Some(hostkey) = cert.as_hostkey() {
            let Some(known_hosts) = &self.known_hosts else {
                return Err(self.refuse(SourceError::HostKey {
                    host: host.to_string(),
                    cause: "the secret has no 'known_hosts': unknown hosts are refused".into(),
                }));
            };
            let Some(key) = hostkey.hostkey() else {
                return Err(self.refuse(SourceError::HostKey {
                    host: host.to_string(),
                    cause: "the ssh library did not expose the raw host key".into(),
                }));
            };
            return match known_hosts.check(host, self.url.port, key) {
                Ok(()) => Ok(CertificateCheckStatus::CertificateOk),
                Err(e) => Err(self.refuse(SourceError::HostKey {
                    host: host.to_string(),
                    cause: e.to_string(),
                })),
            };
        }
        if let (Some(x509), Some(ca)) = (cert.as_x509(), &self.creds.ca_cert) {
            // Trust the secret's CA for this remote only (never the process-wide store).
            // Like Flux, ca.crt adds to the system roots: if it does not verify the server,
            // libgit2's own check against the system store still decides.
            return match verify_with_ca(x509.data(), ca, host) {
                Ok(()) => Ok(CertificateCheckStatus::CertificateOk),
                Err(cause) => {
                    *self.ca_note.borrow_mut() = Some(cause);
                    Ok(CertificateCheckStatus::CertificatePassthrough)
                }
            };
        }
        Ok(CertificateCheckStatus::CertificatePassthrough)
    }

    /// Turns a libgit2 failure into the cause a callback recorded, or a classified error.
    pub fn classify(&self, err: &git2::Error) -> SourceError {
        if self.too_big.get() {
            return SourceError::SizeLimit {
                url: self.url.redacted(),
                limit: self.max_bytes,
                what: "fetched pack",
            };
        }
        if self.timed_out.get() {
            return SourceError::Timeout {
                url: self.url.redacted(),
                after: self.timeout,
            };
        }
        if let Some(refused) = self.refused.borrow_mut().take() {
            return refused;
        }
        let cause = self.redactor.redact(err.message());
        let lower = cause.to_ascii_lowercase();
        let auth = err.code() == git2::ErrorCode::Auth
            || lower.contains("authentication")
            || lower.contains("unauthorized")
            || lower.contains("401")
            || lower.contains("403")
            || lower.contains("username/publickey");
        if auth {
            return SourceError::Authentication {
                url: self.url.redacted(),
                cause,
            };
        }
        if err.code() == git2::ErrorCode::Certificate || err.class() == git2::ErrorClass::Ssl {
            let cause = match self.ca_note.borrow_mut().take() {
                Some(note) => format!("{cause}; ca.crt: {note}"),
                None => cause,
            };
            return SourceError::Certificate {
                host: self.url.host.clone(),
                cause,
            };
        }
        SourceError::Fetch {
            url: self.url.redacted(),
            cause,
        }
    }
}

/// Verifies a DER leaf certificate against PEM CA certificate(s) and the host name or IP.
fn verify_with_ca(leaf_der: &[u8], ca_pem: &[u8], host: &str) -> Result<(), String> {
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::verify::X509VerifyParam;
    use openssl::x509::{X509, X509StoreContext};

    let cas = X509::stack_from_pem(ca_pem).map_err(|e| format!("ca.crt is not PEM: {e}"))?;
    if cas.is_empty() {
        return Err("ca.crt holds no certificate".into());
    }
    let mut builder = X509StoreBuilder::new().map_err(|e| e.to_string())?;
    for ca in cas {
        builder.add_cert(ca).map_err(|e| e.to_string())?;
    }
    let mut param = X509VerifyParam::new().map_err(|e| e.to_string())?;
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    match bare_host.parse::<std::net::IpAddr>() {
        Ok(ip) => param.set_ip(ip).map_err(|e| e.to_string())?,
        Err(_) => param.set_host(bare_host).map_err(|e| e.to_string())?,
    }
    builder.set_param(&param).map_err(|e| e.to_string())?;
    let store = builder.build();
    let leaf = X509::from_der(leaf_der).map_err(|e| format!("server certificate: {e}"))?;
    let chain = Stack::new().map_err(|e| e.to_string())?;
    let mut ctx = X509StoreContext::new().map_err(|e| e.to_string())?;
    let (ok, detail) = ctx
        .init(&store, &leaf, &chain, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error().error_string().to_string()))
        })
        .map_err(|e| e.to_string())?;
    if ok {
        Ok(())
    } else {
        Err(format!("not signed by ca.crt or wrong host: {detail}"))
    }
}
