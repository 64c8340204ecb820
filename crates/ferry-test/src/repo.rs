//! A git working copy on disk, driven with the git command line: what a GitRepository with a
//! `file://` URL points at in tests.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

pub struct GitRepo {
    pub dir: PathBuf,
}

impl GitRepo {
    /// `git init` on branch main, with an author configured.
    pub fn init(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("repository directory");
        let repo = Self {
            dir: dir.to_path_buf(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "test@ferry.invalid"]);
        repo.git(&["config", "user.name", "ferry test"]);
        repo
    }

    /// Runs git in the working copy; panics with git's stderr when it fails.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Writes a file of the working copy, creating its directory.
    pub fn write(&self, path: &str, content: &str) {
        write(&self.dir.join(path), content);
    }

    /// Removes a tracked file.
    pub fn remove(&self, path: &str) {
        self.git(&["rm", "-q", path]);
    }

    /// Commits everything and returns the commit hash.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.display())
    }
}

/// Writes a file, creating its directory.
pub fn write(file: &Path, content: &str) {
    std::fs::create_dir_all(file.parent().expect("files have parents")).expect("parent directory");
    std::fs::write(file, content).expect("file written");
}
