//! `spec.ref`: which commit to fetch, with Flux's precedence (commit > name > semver > tag >
//! branch, branch defaulting to `master`), and the revision string each kind produces.

use crate::error::SourceError;

/// Flux's `spec.ref` as plain fields; several may be set, precedence decides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitReference {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub semver: Option<String>,
    pub name: Option<String>,
    pub commit: Option<String>,
}

/// The one strategy the precedence picks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checkout {
    /// `commit`, optionally fetched through `branch` (then the revision names the branch).
    Commit {
        commit: String,
        branch: Option<String>,
    },
    /// `name`: any reference, e.g. `refs/pull/1/head`.
    Name(String),
    Semver(String),
    Tag(String),
    Branch(String),
}

pub const DEFAULT_BRANCH: &str = "master";

impl GitReference {
    pub fn branch(name: impl Into<String>) -> Self {
        Self {
            branch: Some(name.into()),
            ..Self::default()
        }
    }
    pub fn tag(name: impl Into<String>) -> Self {
        Self {
            tag: Some(name.into()),
            ..Self::default()
        }
    }
    pub fn semver(range: impl Into<String>) -> Self {
        Self {
            semver: Some(range.into()),
            ..Self::default()
        }
    }
    pub fn name(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }
    pub fn commit(sha: impl Into<String>) -> Self {
        Self {
            commit: Some(sha.into()),
            ..Self::default()
        }
    }

    /// Flux's precedence: commit > name > semver > tag > branch (default `master`).
    pub fn checkout(&self) -> Checkout {
        let set = |v: &Option<String>| v.as_ref().filter(|s| !s.trim().is_empty()).cloned();
        if let Some(commit) = set(&self.commit) {
            Checkout::Commit {
                commit,
                branch: set(&self.branch),
            }
        } else if let Some(name) = set(&self.name) {
            Checkout::Name(name)
        } else if let Some(range) = set(&self.semver) {
            Checkout::Semver(range)
        } else if let Some(tag) = set(&self.tag) {
            Checkout::Tag(tag)
        } else {
            Checkout::Branch(set(&self.branch).unwrap_or_else(|| DEFAULT_BRANCH.to_string()))
        }
    }
}

/// Flux's revision string (RFC-0005): `<branch>@sha1:<h>`, `<tag>@sha1:<h>`,
/// `<absolute ref>@sha1:<h>` for `name`, `sha1:<h>` for a bare commit.
pub fn revision(pointer: Option<&str>, commit: &str) -> String {
    match pointer {
        Some(p) => format!("{p}@sha1:{commit}"),
        None => format!("sha1:{commit}"),
    }
}

/// A semver constraint in Masterminds/semver syntax (what Flux accepts): comparators separated
/// by spaces or commas are ANDed, `||` ORs groups; `^ ~ x * =` and hyphen ranges `1.0 - 2.0`.
#[derive(Debug)]
pub struct SemverRange {
    groups: Vec<semver::VersionReq>,
}

impl SemverRange {
    pub fn parse(range: &str) -> Result<Self, SourceError> {
        let invalid = |cause: String| SourceError::InvalidSemver {
            range: range.to_string(),
            cause,
        };
        let mut groups = Vec::new();
        for group in range.split("||") {
            let group = group.trim();
            if group.is_empty() {
                return Err(invalid("empty constraint".into()));
            }
            let comparators = normalize_group(group).map_err(invalid)?;
            let req = semver::VersionReq::parse(&comparators.join(", "))
                .map_err(|e| invalid(e.to_string()))?;
            groups.push(req);
        }
        Ok(Self { groups })
    }

    pub fn matches(&self, version: &semver::Version) -> bool {
        self.groups.iter().any(|g| g.matches(version))
    }
}

/// Splits a Masterminds AND-group into comparators the `semver` crate understands.
fn normalize_group(group: &str) -> Result<Vec<String>, String> {
    let tokens: Vec<&str> = group
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        // Hyphen range "a - b" means ">=a, <=b".
        if i + 2 < tokens.len() && tokens[i + 1] == "-" {
            out.push(format!(">={}", strip_v(tokens[i])));
            out.push(format!("<={}", strip_v(tokens[i + 2])));
            i += 3;
            continue;
        }
        let mut token = tokens[i].to_string();
        // An operator separated from its version: ">= 1.0".
        if token.chars().all(|c| "<>=~^!".contains(c)) {
            let next = tokens
                .get(i + 1)
                .ok_or_else(|| format!("'{token}' has no version"))?;
            token.push_str(next);
            i += 1;
        }
        if token.starts_with("!=") {
            return Err("'!=' is not supported".into());
        }
        let op_len = token
            .find(|c: char| !"<>=~^".contains(c))
            .unwrap_or(token.len());
        let (op, version) = token.split_at(op_len);
        out.push(format!("{op}{}", strip_v(version)));
        i += 1;
    }
    if out.is_empty() {
        return Err("empty constraint".into());
    }
    Ok(out)
}

fn strip_v(v: &str) -> &str {
    v.strip_prefix('v')
        .or_else(|| v.strip_prefix('V'))
        .unwrap_or(v)
}

/// A tag as a version, leniently like Masterminds: optional `v`, missing minor/patch are 0.
pub fn parse_tag_version(tag: &str) -> Option<semver::Version> {
    let v = strip_v(tag);
    if let Ok(parsed) = semver::Version::parse(v) {
        return Some(parsed);
    }
    // "1" / "1.2" with optional pre-release/build: pad the core.
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut padded = parts.join(".");
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    semver::Version::parse(&format!("{padded}{rest}")).ok()
}

/// The highest tag matching `range`; ties (e.g. `v1.0.0` and `1.0.0`) go to the later name.
pub fn pick_semver_tag<'a>(
    range: &SemverRange,
    tags: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    tags.into_iter()
        .filter_map(|t| parse_tag_version(t).map(|v| (v, t)))
        .filter(|(v, _)| range.matches(v))
        .max_by(|(a, ta), (b, tb)| a.cmp(b).then(ta.cmp(tb)))
        .map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_fluxs() {
        let all = GitReference {
            branch: Some("b".into()),
            tag: Some("t".into()),
            semver: Some("1.x".into()),
            name: Some("refs/pull/1/head".into()),
            commit: Some("abc".into()),
        };
        assert_eq!(
            all.checkout(),
            Checkout::Commit {
                commit: "abc".into(),
                branch: Some("b".into())
            }
        );
        let no_commit = GitReference {
            commit: None,
            ..all.clone()
        };
        assert_eq!(
            no_commit.checkout(),
            Checkout::Name("refs/pull/1/head".into())
        );
        let no_name = GitReference {
            name: None,
            ..no_commit.clone()
        };
        assert_eq!(no_name.checkout(), Checkout::Semver("1.x".into()));
        let no_semver = GitReference {
            semver: None,
            ..no_name.clone()
        };
        assert_eq!(no_semver.checkout(), Checkout::Tag("t".into()));
        assert_eq!(
            GitReference::default().checkout(),
            Checkout::Branch("master".into())
        );
    }

    #[test]
    fn revisions() {
        assert_eq!(revision(Some("main"), "ab"), "main@sha1:ab");
        assert_eq!(revision(None, "ab"), "sha1:ab");
    }

    #[test]
    fn masterminds_ranges() {
        let tags = ["v1.0.0", "v1.2.3", "1.3.0-rc.1", "v2.0.0", "junk", "v1.10"];
        let pick = |r: &str| pick_semver_tag(&SemverRange::parse(r).expect("valid range"), tags);
        assert_eq!(pick(">=1.0.0 <2.0.0"), Some("v1.10"));
        assert_eq!(pick(">= 1.0.0, < 1.5.0"), Some("v1.2.3"));
        assert_eq!(pick("~1.2"), Some("v1.2.3"));
        assert_eq!(pick("1.x"), Some("v1.10"));
        assert_eq!(pick("^2"), Some("v2.0.0"));
        assert_eq!(pick("1.0.0 - 1.3.0"), Some("v1.2.3"));
        assert_eq!(pick("<1.0.0 || >=2.0.0"), Some("v2.0.0"));
        assert_eq!(pick(">5"), None);
        assert!(SemverRange::parse("not a range").is_err());
        assert!(SemverRange::parse("").is_err());
    }
}
