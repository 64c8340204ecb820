//! Real git servers on loopback, started per test from Debian's packages, and helpers that build
//! repositories with the `git` CLI (signed commits with gpg and ssh-keygen included).
//!
//! - [`GitHttpServer`]: nginx + fcgiwrap + git-http-backend, optional basic auth or bearer token,
//!   optional TLS with a CA generated for the test.
//! - [`GitSshServer`]: openssh-server on a loopback port with its own host key, key auth and a
//!   `known_hosts` line for the client. Works as root or not (StrictModes off, no PAM).
//! - [`GitDaemon`]: `git daemon` (git://).
//!
//! Each server stops when dropped; `stop`/`restart` keep the port for recovery tests.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::process::{Child, Command};

/// How a [`GitHttpServer`] authenticates clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpAuth {
    None,
    Basic { username: String, password: String },
    Bearer(String),
}

impl HttpAuth {
    pub fn basic(username: &str, password: &str) -> Self {
        Self::Basic {
            username: username.into(),
            password: password.into(),
        }
    }
}

/// A free loopback port (bound then released: tiny race, acceptable in tests).
pub fn free_port() -> io::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_port(
    port: u16,
    child: &mut Child,
    what: &str,
    log: Option<&Path>,
) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            let log = log
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            return Err(io::Error::other(format!(
                "{what} exited with {status}: {log}"
            )));
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{what} did not listen on {port} within 10s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn run(cmd: &mut Command) -> io::Result<String> {
    let out = cmd.stdin(Stdio::null()).output().await?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `git --exec-path`: where git-http-backend lives for the `git` on PATH.
async fn git_exec_path() -> io::Result<PathBuf> {
    Ok(PathBuf::from(
        run(Command::new("git").arg("--exec-path")).await?,
    ))
}

fn split_repo(repo_dir: &Path) -> io::Result<(PathBuf, String)> {
    let repo_dir = std::fs::canonicalize(repo_dir)?;
    let parent = repo_dir
        .parent()
        .ok_or_else(|| io::Error::other("repository has no parent directory"))?;
    let name = repo_dir
        .file_name()
        .ok_or_else(|| io::Error::other("repository has no name"))?
        .to_string_lossy()
        .to_string();
    Ok((parent.to_path_buf(), name))
}

/// TLS material generated for one server: a CA and a certificate for 127.0.0.1 signed by it.
pub struct TestCa {
    pub ca_pem: Vec<u8>,
    cert: PathBuf,
    key: PathBuf,
}

impl TestCa {
    async fn generate(dir: &Path) -> io::Result<Self> {
        let p = |name: &str| dir.join(name);
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        run(Command::new("openssl")
            .args(["req", "-x509"])
            .args(ec)
            .arg("-keyout")
            .arg(p("ca.key"))
            .arg("-out")
            .arg(p("ca.crt"))
            .args(["-days", "2", "-subj", "/CN=ferry test CA"]))
        .await?;
        run(Command::new("openssl")
            .arg("req")
            .args(ec)
            .arg("-keyout")
            .arg(p("server.key"))
            .arg("-out")
            .arg(p("server.csr"))
            .args(["-subj", "/CN=127.0.0.1"]))
        .await?;
        std::fs::write(
            p("ext.cnf"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )?;
        run(Command::new("openssl")
            .args(["x509", "-req", "-in"])
            .arg(p("server.csr"))
            .arg("-CA")
            .arg(p("ca.crt"))
            .arg("-CAkey")
            .arg(p("ca.key"))
            .args(["-CAcreateserial", "-days", "2", "-out"])
            .arg(p("server.crt"))
            .arg("-extfile")
            .arg(p("ext.cnf")))
        .await?;
        Ok(Self {
            ca_pem: std::fs::read(p("ca.crt"))?,
            cert: p("server.crt"),
            key: p("server.key"),
        })
    }
}

/// git over HTTP(S): nginx in front of git-http-backend through fcgiwrap.
pub struct GitHttpServer {
    dir: TempDir,
    port: u16,
    repo_name: String,
    tls: Option<TestCa>,
    nginx: Option<Child>,
    fcgiwrap: Option<Child>,
}

impl GitHttpServer {
    /// Serves the bare repository `repo_dir` over plain HTTP.
    pub async fn start(repo_dir: &Path, auth: HttpAuth) -> io::Result<Self> {
        Self::start_inner(repo_dir, auth, false).await
    }

    /// Serves over HTTPS with a certificate signed by a CA made for this server ([`Self::ca_pem`]).
    pub async fn start_tls(repo_dir: &Path, auth: HttpAuth) -> io::Result<Self> {
        Self::start_inner(repo_dir, auth, true).await
    }

    async fn start_inner(repo_dir: &Path, auth: HttpAuth, tls: bool) -> io::Result<Self> {
        let (root, repo_name) = split_repo(repo_dir)?;
        let dir = tempfile::Builder::new()
            .prefix("ferry-git-http-")
            .tempdir()?;
        let port = free_port()?;
        let tls = if tls {
            Some(TestCa::generate(dir.path()).await?)
        } else {
            None
        };
        let backend = git_exec_path().await?.join("git-http-backend");
        let d = dir.path();
        let auth_conf = match &auth {
            HttpAuth::None => String::new(),
            HttpAuth::Basic { username, password } => {
                std::fs::write(
                    d.join("htpasswd"),
                    format!("{username}:{{PLAIN}}{password}\n"),
                )?;
                format!(
                    "auth_basic \"git\";\n auth_basic_user_file {};",
                    d.join("htpasswd").display()
                )
            }
            HttpAuth::Bearer(token) => format!(
                "if ($http_authorization != \"Bearer {token}\") {{ add_header WWW-Authenticate 'Basic realm=\"git\"' always; return 401; }}"
            ),
        };
        let listen = match &tls {
            Some(ca) => format!(
                "listen 127.0.0.1:{port} ssl;\n ssl_certificate {};\n ssl_certificate_key {};",
                ca.cert.display(),
                ca.key.display()
            ),
            None => format!("listen 127.0.0.1:{port};"),
        };
        let sock = d.join("fcgiwrap.sock");
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
 access_log off;
 client_body_temp_path {d}/body;
 fastcgi_temp_path {d}/fastcgi;
 proxy_temp_path {d}/proxy;
 uwsgi_temp_path {d}/uwsgi;
 scgi_temp_path {d}/scgi;
 client_max_body_size 0;
 server {{
  {listen}
  location / {{
   {auth_conf}
   fastcgi_pass unix:{sock};
   fastcgi_param SCRIPT_FILENAME {backend};
   fastcgi_param GIT_PROJECT_ROOT {root};
   fastcgi_param GIT_HTTP_EXPORT_ALL "";
   fastcgi_param PATH_INFO $uri;
   fastcgi_param REMOTE_USER $remote_user;
   fastcgi_param QUERY_STRING $query_string;
   fastcgi_param REQUEST_METHOD $request_method;
   fastcgi_param CONTENT_TYPE $content_type;
   fastcgi_param CONTENT_LENGTH $content_length;
   fastcgi_param GIT_PROTOCOL $http_git_protocol;
  }}
 }}
}}
"#,
            d = d.display(),
            sock = sock.display(),
            backend = backend.display(),
            root = root.display(),
        );
        std::fs::write(d.join("nginx.conf"), conf)?;
        let mut server = Self {
            dir,
            port,
            repo_name,
            tls,
            nginx: None,
            fcgiwrap: None,
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> io::Result<()> {
        let d = self.dir.path().to_path_buf();
        let sock = d.join("fcgiwrap.sock");
        let _ = std::fs::remove_file(&sock);
        let mut fcgiwrap = Command::new("fcgiwrap")
            .arg("-c")
            .arg("4")
            .arg("-s")
            .arg(format!("unix:{}", sock.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // fcgiwrap preforks its workers: in a group of their own they can all be stopped
            // together (killing the parent alone leaves them waiting on the socket forever).
            .process_group(0)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sock.exists() {
            if fcgiwrap.try_wait()?.is_some() || Instant::now() > deadline {
                return Err(io::Error::other("fcgiwrap did not create its socket"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut nginx = Command::new("nginx")
            .arg("-p")
            .arg(&d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .arg("-e")
            .arg(d.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        wait_for_port(self.port, &mut nginx, "nginx", Some(&d.join("error.log"))).await?;
        self.fcgiwrap = Some(fcgiwrap);
        self.nginx = Some(nginx);
        Ok(())
    }

    /// The repository's URL.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/{}", self.port, self.repo_name)
    }

    /// The PEM CA that signed the server certificate (TLS servers only).
    pub fn ca_pem(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|t| t.ca_pem.as_slice())
    }

    /// Stops the server (the port stays reserved for [`Self::restart`] in practice).
    pub async fn stop(&mut self) {
        if let Some(fcgiwrap) = &self.fcgiwrap {
            kill_group(fcgiwrap);
        }
        for child in [self.nginx.take(), self.fcgiwrap.take()]
            .into_iter()
            .flatten()
        {
            stop_child(child).await;
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.stop().await;
        self.spawn().await
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        if let Some(fcgiwrap) = &self.fcgiwrap {
            kill_group(fcgiwrap);
        }
    }
}

/// SIGKILLs the process group led by `child` (started with `process_group(0)`), through
/// kill(1): the workspace forbids the unsafe a direct killpg would need.
fn kill_group(child: &Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

async fn stop_child(mut child: Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// git over SSH: sshd on a loopback port, key authentication only.
pub struct GitSshServer {
    dir: TempDir,
    port: u16,
    user: String,
    repo_path: PathBuf,
    host_public_key: String,
    sshd: Option<Child>,
    /// The client's private key (OpenSSH format), authorized on this server.
    pub client_identity: String,
}

impl GitSshServer {
    /// Serves `repo_dir` to a client key generated here ([`Self::client_identity`]).
    pub async fn start(repo_dir: &Path) -> io::Result<Self> {
        let repo_path = std::fs::canonicalize(repo_dir)?;
        let dir = tempfile::Builder::new()
            .prefix("ferry-git-ssh-")
            .tempdir()?;
        let d = dir.path();
        let port = free_port()?;
        let user = run(Command::new("id").arg("-un")).await?;
        let host_key = d.join("host_ed25519");
        let client_key = d.join("client_ed25519");
        for key in [&host_key, &client_key] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "ferry-test", "-f"])
                .arg(key))
            .await?;
        }
        std::fs::copy(client_key.with_extension("pub"), d.join("authorized_keys"))?;
        let host_public_key = std::fs::read_to_string(host_key.with_extension("pub"))?;
        let client_identity = std::fs::read_to_string(&client_key)?;
        let conf = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\n\
             StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nAllowUsers {user}\nLogLevel ERROR\n",
            hk = host_key.display(),
            d = d.display(),
        );
        std::fs::write(d.join("sshd_config"), conf)?;
        // sshd insists on its privilege-separation directory when started as root.
        if user == "root" {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let mut server = Self {
            dir,
            port,
            user,
            repo_path,
            host_public_key,
            sshd: None,
            client_identity,
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> io::Result<()> {
        let d = self.dir.path();
        let log = d.join("sshd.log");
        let mut sshd = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        wait_for_port(self.port, &mut sshd, "sshd", Some(&log)).await?;
        self.sshd = Some(sshd);
        Ok(())
    }

    /// `ssh://<user>@127.0.0.1:<port>/<absolute repo path>`.
    pub fn url(&self) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            self.repo_path.display()
        )
    }

    /// The `known_hosts` line for this server (`[127.0.0.1]:<port> ssh-ed25519 ...`).
    pub fn known_hosts(&self) -> String {
        let key: Vec<&str> = self.host_public_key.split_whitespace().take(2).collect();
        format!("[127.0.0.1]:{} {}\n", self.port, key.join(" "))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn stop(&mut self) {
        if let Some(child) = self.sshd.take() {
            stop_child(child).await;
        }
    }

    pub async fn restart(&mut self) -> io::Result<()> {
        self.stop().await;
        self.spawn().await
    }
}

/// `git daemon` serving one repository over git://.
pub struct GitDaemon {
    port: u16,
    root: PathBuf,
    repo_name: String,
    child: Option<Child>,
}

impl GitDaemon {
    pub async fn start(repo_dir: &Path) -> io::Result<Self> {
        let (root, repo_name) = split_repo(repo_dir)?;
        let mut daemon = Self {
            port: free_port()?,
            root,
            repo_name,
            child: None,
        };
        daemon.spawn().await?;
        Ok(daemon)
    }

    async fn spawn(&mut self) -> io::Result<()> {
        // The dashed binary itself: `git daemon` would fork it, and killing the wrapper would
        // leave the real daemon listening.
        let mut child = Command::new(git_exec_path().await?.join("git-daemon"))
            .arg("--reuseaddr")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={}", self.port))
            .arg(format!("--base-path={}", self.root.display()))
            .arg("--export-all")
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        wait_for_port(self.port, &mut child, "git daemon", None).await?;
        self.child = Some(child);
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("git://127.0.0.1:{}/{}", self.port, self.repo_name)
    }

    pub async fn stop(&mut self) {
        if let Some(child) = self.child.take() {
            stop_child(child).await;
        }
    }

    pub async fn restart(&mut self) -> io::Result<()> {
        self.stop().await;
        self.spawn().await
    }
}

/// A bare repository plus a working clone to commit into, driven by the `git` CLI with an
/// isolated configuration (no user or system config leaks in).
pub struct GitWorkspace {
    dir: TempDir,
    pub bare: PathBuf,
    pub work: PathBuf,
    branch: String,
}

impl GitWorkspace {
    /// An empty bare repository `repo.git` whose default branch is `branch`.
    pub async fn new(branch: &str) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("ferry-git-ws-").tempdir()?;
        let bare = dir.path().join("repo.git");
        let work = dir.path().join("work");
        let ws = Self {
            dir,
            bare,
            work,
            branch: branch.to_string(),
        };
        ws.git_in(
            ws.dir.path(),
            &["init", "-q", "--bare", "-b", branch, "repo.git"],
        )
        .await?;
        ws.git_in(ws.dir.path(), &["init", "-q", "-b", branch, "work"])
            .await?;
        ws.git(&["remote", "add", "origin", &ws.bare.to_string_lossy()])
            .await?;
        Ok(ws)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, cwd: &Path) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(cwd)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ferry Test")
            .env("GIT_AUTHOR_EMAIL", "test@ferry.invalid")
            .env("GIT_COMMITTER_NAME", "Ferry Test")
            .env("GIT_COMMITTER_EMAIL", "test@ferry.invalid")
            .env("GNUPGHOME", self.dir.path().join("gnupg"));
        cmd
    }

    async fn git_in(&self, cwd: &Path, args: &[&str]) -> io::Result<String> {
        run(self.command(cwd).args(args)).await
    }

    /// Runs `git <args>` in the working clone.
    pub async fn git(&self, args: &[&str]) -> io::Result<String> {
        self.git_in(&self.work, args).await
    }

    /// Writes a file (creating directories) in the working clone.
    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) -> io::Result<()> {
        let full = self.work.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, content)
    }

    /// Commits everything and pushes the current branch; returns the commit hash.
    pub async fn commit(&self, message: &str) -> io::Result<String> {
        self.commit_with(message, &[]).await
    }

    /// Like [`Self::commit`] with extra `git -c` style config pairs (e.g. signing options).
    pub async fn commit_with(&self, message: &str, config: &[(&str, &str)]) -> io::Result<String> {
        self.git(&["add", "-A"]).await?;
        let mut args: Vec<String> = Vec::new();
        for (k, v) in config {
            args.push("-c".into());
            args.push(format!("{k}={v}"));
        }
        args.extend(["commit", "-q", "--allow-empty", "-m", message].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.git(&refs).await?;
        self.push().await?;
        self.git(&["rev-parse", "HEAD"]).await
    }

    /// Pushes the current branch and all tags to the bare repository.
    pub async fn push(&self) -> io::Result<()> {
        let head = self.git(&["rev-parse", "--abbrev-ref", "HEAD"]).await?;
        self.git(&["push", "-q", "--force", "origin", &head])
            .await?;
        self.git(&["push", "-q", "--force", "--tags", "origin"])
            .await?;
        Ok(())
    }

    /// Creates a lightweight tag (or annotated with a message) at HEAD and pushes it.
    pub async fn tag(&self, name: &str, message: Option<&str>) -> io::Result<()> {
        match message {
            Some(m) => self.git(&["tag", "-a", name, "-m", m]).await?,
            None => self.git(&["tag", name]).await?,
        };
        self.push().await
    }

    /// Pushes HEAD to an arbitrary ref of the bare repository (e.g. `refs/pull/1/head`).
    pub async fn push_ref(&self, refname: &str) -> io::Result<()> {
        self.git(&[
            "push",
            "-q",
            "--force",
            "origin",
            &format!("HEAD:{refname}"),
        ])
        .await?;
        Ok(())
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }
}

/// A gpg key made for a test, in its own keyring (`GNUPGHOME` of the workspace).
pub struct GpgKey {
    pub fingerprint: String,
    /// Armored public key, as a Flux verification Secret's `*.asc` holds it.
    pub public_armored: String,
}

impl GitWorkspace {
    /// Generates an ed25519 gpg signing key in this workspace's keyring.
    pub async fn gpg_key(&self, email: &str) -> io::Result<GpgKey> {
        let home = self.dir.path().join("gnupg");
        std::fs::create_dir_all(&home)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))?;
        }
        let gpg = |args: &[&str]| {
            let mut cmd = Command::new("gpg");
            cmd.env("GNUPGHOME", &home)
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
                .args(args);
            cmd
        };
        run(&mut gpg(&[
            "--quick-gen-key",
            &format!("Ferry Test <{email}>"),
            "ed25519",
            "sign",
            "never",
        ]))
        .await?;
        let listing = run(&mut gpg(&["--with-colons", "--list-keys", email])).await?;
        let fingerprint = listing
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .ok_or_else(|| io::Error::other("gpg listed no fingerprint"))?;
        let public_armored = run(&mut gpg(&["--armor", "--export", &fingerprint])).await?;
        Ok(GpgKey {
            fingerprint,
            public_armored,
        })
    }

    /// Commits signed with `key` (gpg).
    pub async fn commit_gpg_signed(&self, message: &str, key: &GpgKey) -> io::Result<String> {
        self.commit_with(
            message,
            &[
                ("user.signingkey", &key.fingerprint),
                ("commit.gpgsign", "true"),
            ],
        )
        .await
    }

    /// Generates an ed25519 ssh signing key; returns (private key path, public key line).
    pub async fn ssh_signing_key(&self, name: &str) -> io::Result<(PathBuf, String)> {
        let path = self.dir.path().join(name);
        run(Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&path))
        .await?;
        let public = std::fs::read_to_string(path.with_extension("pub"))?;
        Ok((path, public.trim().to_string()))
    }

    /// Commits signed with the ssh key at `private_key` (git's `gpg.format=ssh`).
    pub async fn commit_ssh_signed(&self, message: &str, private_key: &Path) -> io::Result<String> {
        let key = private_key.to_string_lossy();
        self.commit_with(
            message,
            &[
                ("gpg.format", "ssh"),
                ("user.signingkey", &key),
                ("commit.gpgsign", "true"),
            ],
        )
        .await
    }

    /// An annotated tag signed with the ssh key at `private_key`, pushed.
    pub async fn tag_ssh_signed(&self, name: &str, private_key: &Path) -> io::Result<()> {
        let key = private_key.to_string_lossy();
        self.git(&[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={key}"),
            "tag",
            "-s",
            name,
            "-m",
            name,
        ])
        .await?;
        self.push().await
    }

    /// An annotated tag signed with the gpg key, pushed.
    pub async fn tag_gpg_signed(&self, name: &str, key: &GpgKey) -> io::Result<()> {
        self.git(&[
            "-c",
            &format!("user.signingkey={}", key.fingerprint),
            "tag",
            "-s",
            name,
            "-m",
            name,
        ])
        .await?;
        self.push().await
    }
}

impl Drop for GitWorkspace {
    fn drop(&mut self) {
        // Stop the gpg-agent a signing test may have started in this keyring.
        let home = self.dir.path().join("gnupg");
        if home.exists() {
            let _ = std::process::Command::new("gpgconf")
                .env("GNUPGHOME", &home)
                .args(["--kill", "gpg-agent"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
