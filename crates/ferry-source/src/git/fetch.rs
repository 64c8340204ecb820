//! Fetching the one reference `spec.ref` asks for into the object cache, shallow where the
//! transport allows, and resolving it to a commit (and the annotated tag that points at it).

use git2::{AutotagOption, FetchOptions, Oid, RemoteRedirect, Repository};

use crate::error::SourceError;
use crate::git::cache::CachedRepo;
use crate::git::reference::{Checkout, SemverRange, pick_semver_tag};
use crate::git::transport::{FetchStats, Session};
use crate::git::url::Transport;

/// The fetched reference, resolved.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub commit: Oid,
    /// The annotated tag object the reference points at, if any (for tag signature checks).
    pub tag: Option<Oid>,
    /// The named pointer of the revision (`main`, `v1.0.0`, `refs/pull/1/head`), none for a
    /// bare commit.
    pub pointer: Option<String>,
    pub stats: FetchStats,
}

/// Fetches what `checkout` needs and resolves it.
pub fn fetch(
    cached: &mut CachedRepo,
    session: &Session<'_>,
    checkout: &Checkout,
) -> Result<Resolved, SourceError> {
    match checkout {
        Checkout::Branch(branch) => {
            let remote_ref = format!("refs/heads/{branch}");
            check_ref_name(session, &remote_ref, "branch", branch)?;
            fetch_named(
                &cached.repo,
                session,
                &remote_ref,
                "branch",
                Some(branch.clone()),
            )
        }
        Checkout::Tag(tag) => {
            let remote_ref = format!("refs/tags/{tag}");
            check_ref_name(session, &remote_ref, "tag", tag)?;
            fetch_named(&cached.repo, session, &remote_ref, "tag", Some(tag.clone()))
        }
        Checkout::Name(name) => {
            if !name.starts_with("refs/") {
                return Err(SourceError::InvalidReference {
                    reference: name.clone(),
                    cause: "a ref name must be absolute, e.g. refs/heads/main or refs/pull/1/head"
                        .into(),
                });
            }
            check_ref_name(session, name, "reference", name)?;
            fetch_named(&cached.repo, session, name, "reference", Some(name.clone()))
        }
        Checkout::Semver(range) => {
            let parsed = SemverRange::parse(range)?;
            let heads = ls_remote(&cached.repo, session)?;
            let tags: Vec<&str> = heads
                .iter()
                .filter_map(|(name, _)| name.strip_prefix("refs/tags/"))
                .filter(|t| !t.ends_with("^{}"))
                .collect();
            let Some(tag) = pick_semver_tag(&parsed, tags.iter().copied()) else {
                return Err(SourceError::NoMatchingTag {
                    url: session.url.redacted(),
                    range: range.clone(),
                });
            };
            let tag = tag.to_string();
            fetch_named(
                &cached.repo,
                session,
                &format!("refs/tags/{tag}"),
                "tag",
                Some(tag.clone()),
            )
        }
        Checkout::Commit { commit, branch } => {
            fetch_commit(cached, session, commit, branch.as_deref())
        }
    }
}

fn check_ref_name(
    session: &Session<'_>,
    full: &str,
    kind: &'static str,
    shown: &str,
) -> Result<(), SourceError> {
    if git2::Reference::is_valid_name(full) {
        Ok(())
    } else {
        Err(SourceError::InvalidReference {
            reference: shown.to_string(),
            cause: format!(
                "not a valid git {kind} name (for '{}')",
                session.url.redacted()
            ),
        })
    }
}

fn fetch_options<'s>(session: &'s Session<'_>, depth: i32) -> FetchOptions<'s> {
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(session.callbacks());
    opts.download_tags(AutotagOption::None);
    opts.update_fetchhead(false);
    opts.follow_redirects(RemoteRedirect::Initial);
    if depth != 0 {
        opts.depth(depth);
    }
    if let Some(header) = session.bearer_header() {
        opts.custom_headers(&[header.as_str()]);
    }
    opts
}

/// Fetches one named reference (`+<ref>:<ref>` into the cache) and resolves it.
fn fetch_named(
    repo: &Repository,
    session: &Session<'_>,
    remote_ref: &str,
    kind: &'static str,
    pointer: Option<String>,
) -> Result<Resolved, SourceError> {
    // The first fetch of a ref is shallow; later ones fetch only what is new on top of the
    // cached tip (a depth-1 fetch would re-negotiate the shallow boundary instead).
    let depth =
        if session.url.transport.supports_shallow() && repo.refname_to_id(remote_ref).is_err() {
            1
        } else {
            0
        };
    let mut remote = repo
        .remote_anonymous(&session.url.url)
        .map_err(|e| session.classify(&e))?;
    let spec = format!("+{remote_ref}:{remote_ref}");
    let mut opts = fetch_options(session, depth);
    let fetched = remote.fetch(&[spec.as_str()], Some(&mut opts), None);
    let advertised = remote
        .list()
        .map(|heads| heads.iter().any(|h| h.name() == remote_ref))
        .unwrap_or(false);
    if let Err(e) = fetched {
        let err = session.classify(&e);
        // libgit2 reports a missing remote ref as a generic error; name it.
        if matches!(err, SourceError::Fetch { .. })
            && !advertised
            && remote.list().is_ok_and(|h| !h.is_empty())
        {
            return Err(not_found(session, kind, remote_ref));
        }
        return Err(err);
    }
    if !advertised {
        return Err(not_found(session, kind, remote_ref));
    }
    let target = repo
        .refname_to_id(remote_ref)
        .map_err(|_| not_found(session, kind, remote_ref))?;
    let (commit, tag) = peel(repo, session, target)?;
    Ok(Resolved {
        commit,
        tag,
        pointer,
        stats: session.stats(),
    })
}

fn not_found(session: &Session<'_>, kind: &'static str, remote_ref: &str) -> SourceError {
    SourceError::RefNotFound {
        url: session.url.redacted(),
        kind,
        reference: remote_ref.to_string(),
    }
}

fn peel(
    repo: &Repository,
    session: &Session<'_>,
    target: Oid,
) -> Result<(Oid, Option<Oid>), SourceError> {
    let object = repo
        .find_object(target, None)
        .map_err(|e| session.classify(&e))?;
    let tag = (object.kind() == Some(git2::ObjectType::Tag)).then_some(target);
    let commit = object.peel_to_commit().map_err(|e| SourceError::Fetch {
        url: session.url.redacted(),
        cause: format!("{target} does not point at a commit: {}", e.message()),
    })?;
    Ok((commit.id(), tag))
}

/// The remote's references (`git ls-remote`), without downloading objects. A download with a
/// refspec that matches nothing connects (with the bearer header, which `connect` cannot send),
/// lists the refs and wants nothing.
pub fn ls_remote(
    repo: &Repository,
    session: &Session<'_>,
) -> Result<Vec<(String, Oid)>, SourceError> {
    let mut remote = repo
        .remote_anonymous(&session.url.url)
        .map_err(|e| session.classify(&e))?;
    let mut opts = fetch_options(session, 0);
    remote
        .download(
            &["refs/ferry/nothing-to-fetch:refs/ferry/nothing-to-fetch"],
            Some(&mut opts),
        )
        .map_err(|e| session.classify(&e))?;
    let heads = remote
        .list()
        .map_err(|e| session.classify(&e))?
        .iter()
        .map(|h| (h.name().to_string(), h.oid()))
        .collect();
    Ok(heads)
}

fn fetch_commit(
    cached: &mut CachedRepo,
    session: &Session<'_>,
    commit: &str,
    branch: Option<&str>,
) -> Result<Resolved, SourceError> {
    let invalid = || SourceError::InvalidReference {
        reference: commit.to_string(),
        cause: "a commit must be a full 40-character SHA-1".into(),
    };
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let oid = Oid::from_str(commit).map_err(|_| invalid())?;
    let pointer = branch.map(str::to_string);
    // Already cached: no network at all.
    if cached.repo.find_commit(oid).is_ok() {
        return Ok(Resolved {
            commit: oid,
            tag: None,
            pointer,
            stats: FetchStats::default(),
        });
    }
    let specs: Vec<String> = match branch {
        Some(b) => {
            let remote_ref = format!("refs/heads/{b}");
            check_ref_name(session, &remote_ref, "branch", b)?;
            vec![format!("+{remote_ref}:{remote_ref}")]
        }
        None => vec![
            "+refs/heads/*:refs/heads/*".into(),
            "+refs/tags/*:refs/tags/*".into(),
        ],
    };
    // A commit can be anywhere in history: fetch it whole (unshallowing a shallow cache).
    let depth = if cached.repo.is_shallow() && session.url.transport != Transport::File {
        i32::MAX
    } else {
        0
    };
    let mut remote = cached
        .repo
        .remote_anonymous(&session.url.url)
        .map_err(|e| session.classify(&e))?;
    let mut opts = fetch_options(session, depth);
    let spec_refs: Vec<&str> = specs.iter().map(String::as_str).collect();
    remote
        .fetch(&spec_refs, Some(&mut opts), None)
        .map_err(|e| session.classify(&e))?;
    drop(remote);
    if cached.repo.find_commit(oid).is_err() {
        return Err(SourceError::RefNotFound {
            url: session.url.redacted(),
            kind: "commit",
            reference: commit.to_string(),
        });
    }
    Ok(Resolved {
        commit: oid,
        tag: None,
        pointer,
        stats: session.stats(),
    })
}
