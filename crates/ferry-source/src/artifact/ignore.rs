//! Which files of a source go into its artifact: Flux's default exclusions, `.sourceignore`
//! files at any level, then `spec.ignore`, all in gitignore syntax with the last match winning
//! (so `spec.ignore` can re-include a default exclusion with `!`).

use std::path::Path;
use std::rc::Rc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Flux's `sourceignore` defaults: VCS files, then `ExcludeExt`, `ExcludeCI`, `ExcludeExtra`.
pub const DEFAULT_EXCLUSIONS: &[&str] = &[
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// The file name read at every level of the tree.
pub const IGNORE_FILE: &str = ".sourceignore";

#[derive(Debug, thiserror::Error)]
#[error("{origin}: invalid ignore pattern: {cause}")]
pub struct IgnoreError {
    pub origin: String,
    pub cause: String,
}

/// One `.sourceignore` file: its directory (relative, `""` for the root) and patterns.
struct Layer {
    dir: String,
    patterns: Gitignore,
    parent: Option<Rc<Layer>>,
}

/// The rules in force in one directory: the defaults, the `.sourceignore` files of the
/// directory and its ancestors, and `spec.ignore` on top.
#[derive(Clone)]
pub struct IgnoreRules {
    defaults: Rc<Gitignore>,
    spec: Option<Rc<Gitignore>>,
    layers: Option<Rc<Layer>>,
}

fn build(root: &str, origin: &str, text: &str) -> Result<Gitignore, IgnoreError> {
    let root_path = if root.is_empty() {
        Path::new("")
    } else {
        Path::new(root)
    };
    let mut builder = GitignoreBuilder::new(root_path);
    for line in text.lines() {
        builder.add_line(None, line).map_err(|e| IgnoreError {
            origin: origin.to_string(),
            cause: e.to_string(),
        })?;
    }
    builder.build().map_err(|e| IgnoreError {
        origin: origin.to_string(),
        cause: e.to_string(),
    })
}

impl IgnoreRules {
    /// Defaults plus `spec.ignore`.
    pub fn new(spec_ignore: Option<&str>) -> Result<Self, IgnoreError> {
        let defaults = build("", "default exclusions", &DEFAULT_EXCLUSIONS.join("\n"))?;
        let spec = spec_ignore
            .map(|text| build("", "spec.ignore", text))
            .transpose()?;
        Ok(Self {
            defaults: Rc::new(defaults),
            spec: spec.map(Rc::new),
            layers: None,
        })
    }

    /// The rules for directory `dir` whose `.sourceignore` holds `text`.
    pub fn with_sourceignore(&self, dir: &str, text: &str) -> Result<Self, IgnoreError> {
        let origin = if dir.is_empty() {
            IGNORE_FILE.to_string()
        } else {
            format!("{dir}/{IGNORE_FILE}")
        };
        let patterns = build(dir, &origin, text)?;
        Ok(Self {
            defaults: self.defaults.clone(),
            spec: self.spec.clone(),
            layers: Some(Rc::new(Layer {
                dir: dir.to_string(),
                patterns,
                parent: self.layers.clone(),
            })),
        })
    }

    /// Whether `path` (relative to the root, `/`-separated) is left out of the artifact.
    pub fn is_excluded(&self, path: &str, is_dir: bool) -> bool {
        let decided = |m: Match<&ignore::gitignore::Glob>| match m {
            Match::None => None,
            Match::Ignore(_) => Some(true),
            Match::Whitelist(_) => Some(false),
        };
        if let Some(spec) = &self.spec
            && let Some(d) = decided(spec.matched(path, is_dir))
        {
            return d;
        }
        let mut layer = self.layers.as_deref();
        while let Some(l) = layer {
            let relative = if l.dir.is_empty() {
                Some(path)
            } else {
                path.strip_prefix(l.dir.as_str())
                    .and_then(|p| p.strip_prefix('/'))
            };
            if let Some(rel) = relative
                && let Some(d) = decided(l.patterns.matched(rel, is_dir))
            {
                return d;
            }
            layer = l.parent.as_deref();
        }
        decided(self.defaults.matched(path, is_dir)).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_exclude_vcs_ci_and_binaries() {
        let rules = IgnoreRules::new(None).expect("defaults parse");
        for excluded in [
            ".git",
            ".github",
            ".gitignore",
            "a/b/logo.png",
            "x.tar.gz",
            "deep/.sops.yaml",
            ".travis.yml",
        ] {
            let is_dir = matches!(excluded, ".git" | ".github");
            assert!(rules.is_excluded(excluded, is_dir), "{excluded}");
        }
        for kept in ["deploy/app.yaml", ".sourceignore", "README.md", "sops.yaml"] {
            assert!(!rules.is_excluded(kept, false), "{kept}");
        }
    }

    #[test]
    fn nested_sourceignore_and_spec_ignore_override_in_order() {
        let rules = IgnoreRules::new(Some("!*.png\nsecret/\n"))
            .expect("spec parses")
            .with_sourceignore("", "*.md\n!keep.md\n")
            .expect("root parses")
            .with_sourceignore("apps", "*.txt\n")
            .expect("nested parses");
        assert!(
            !rules.is_excluded("logo.png", false),
            "spec.ignore re-includes a default"
        );
        assert!(rules.is_excluded("secret", true));
        assert!(rules.is_excluded("docs/a.md", false));
        assert!(!rules.is_excluded("keep.md", false));
        assert!(rules.is_excluded("apps/notes.txt", false));
        assert!(
            !rules.is_excluded("other/notes.txt", false),
            "nested rules stay in their directory"
        );
    }
}
