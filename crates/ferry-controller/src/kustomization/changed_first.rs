//! Which Kustomizations of a source go first when its artifact changes. Every Kustomization of
//! the source reconciles the new revision, as Flux's do, but in a repository holding a thousand
//! apps a commit usually changes a few: those whose `spec.path` holds a changed file are queued
//! before the others, so that they do not wait behind a thousand reconciles that only record
//! the revision. The order is a heuristic and nothing else depends on it: a Kustomization
//! changed through a file outside its path (a shared base) still reconciles, in the second
//! batch.

use std::{
    collections::{BTreeSet, HashMap},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use ferry_api::{GitRepository, Kustomization};
use futures::{Stream, StreamExt, stream};
use kube::{
    ResourceExt,
    runtime::reflector::{ObjectRef, Store},
};

use crate::artifact::{ArtifactFetcher, Contents, content_hash, normalized};

/// How long the second batch waits after the first has been handed to the controller, so that
/// the controller starts the first batch before it sees the second.
const SECOND_BATCH_DELAY: Duration = Duration::from_millis(5);

/// How long the changed paths are waited for (the new artifact's fetch and the comparison)
/// before every Kustomization of the source is queued in no particular order.
const CHANGED_PATHS_WAIT: Duration = Duration::from_secs(2);

/// The Kustomizations to reconcile for each new artifact of a source, changed paths first.
pub fn ordered(
    sources: impl Stream<Item = GitRepository> + Send + 'static,
    store: Store<Kustomization>,
    artifacts: ArtifactFetcher,
) -> impl Stream<Item = ObjectRef<Kustomization>> + Send + 'static {
    let last = Arc::new(std::sync::Mutex::new(HashMap::<String, String>::new()));
    // Sources are handled side by side: one whose artifact is slow to fetch holds back no other.
    sources.flat_map_unordered(None, move |repo| {
        let store = store.clone();
        let artifacts = artifacts.clone();
        let last = last.clone();
        stream::once(async move {
            let started = std::time::Instant::now();
            let users = super::users_of_source(&store, &repo);
            // A task of its own, so that giving up on it does not cancel a fetch half-way
            // (the reconciles need the artifact anyway).
            let source = repo.clone();
            let changed =
                tokio::spawn(async move { changed_since_last(&source, &artifacts, &last).await });
            let changed = tokio::time::timeout(CHANGED_PATHS_WAIT, changed)
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            let (first, rest) = match changed {
                Some(changed) => split(&store, users, &changed),
                None => (Vec::new(), users),
            };
            if !first.is_empty() {
                tracing::debug!(
                    source = %repo.name_any(),
                    first = first.len(),
                    rest = rest.len(),
                    took = ?started.elapsed(),
                    "reconciling the Kustomizations with changed paths first"
                );
            }
            stream::iter(first).chain(
                stream::once(async move {
                    if !rest.is_empty() {
                        tokio::time::sleep(SECOND_BATCH_DELAY).await;
                    }
                    stream::iter(rest)
                })
                .flatten(),
            )
        })
        .flatten()
        .boxed()
    })
}

/// The files that differ between the source's previous artifact (as this stream last saw it)
/// and its new one, relative to the artifact root; `None` when there is no previous one or
/// either cannot be read, which leaves the order as it is.
async fn changed_since_last(
    repo: &GitRepository,
    artifacts: &ArtifactFetcher,
    last: &std::sync::Mutex<HashMap<String, String>>,
) -> Option<BTreeSet<PathBuf>> {
    let artifact = repo.status.as_ref()?.artifact.as_ref()?;
    let key = format!(
        "{}/{}",
        repo.namespace().unwrap_or_default(),
        repo.name_any()
    );
    let previous = last
        .lock()
        .expect("the lock is never poisoned")
        .insert(key, artifact.digest.clone());
    let previous = previous.filter(|p| *p != artifact.digest)?;
    // The previous tree is compared only if this process still has it (it was not restarted
    // since): downloading an old revision just to order the new one is not worth it.
    let remembered = artifacts.contents(&previous);
    // The old tree is held (and so not unpacked over) only when it has to be read.
    let old = match remembered {
        Some(_) => None,
        None => Some(artifacts.cached(&previous)?),
    };
    // The reconciles need the new tree anyway (fetches are shared).
    let new = artifacts
        .fetch(&artifact.url, &artifact.digest)
        .await
        .inspect_err(|e| tracing::debug!(error = %e, "cannot order by changed paths"))
        .ok()?;
    if let (Some(before), Some(after)) = (remembered, artifacts.contents(&artifact.digest)) {
        return Some(changed_contents(&before.files, &after.files));
    }
    let old = old?;
    tokio::task::spawn_blocking(move || changed_files(&old, &new))
        .await
        .ok()?
        .inspect_err(|e| tracing::debug!(error = %e, "cannot compare artifacts"))
        .ok()
}

/// The files added, removed or changed between two artifacts' contents.
fn changed_contents(before: &Contents, after: &Contents) -> BTreeSet<PathBuf> {
    let mut changed: BTreeSet<PathBuf> = before
        .iter()
        .filter(|(path, hash)| after.get(*path) != Some(*hash))
        .map(|(path, _)| path.clone())
        .collect();
    changed.extend(
        after
            .keys()
            .filter(|path| !before.contains_key(*path))
            .cloned(),
    );
    changed
}

/// Splits the Kustomizations into those whose path holds a changed file and the rest.
fn split(
    store: &Store<Kustomization>,
    users: Vec<ObjectRef<Kustomization>>,
    changed: &BTreeSet<PathBuf>,
) -> (Vec<ObjectRef<Kustomization>>, Vec<ObjectRef<Kustomization>>) {
    users.into_iter().partition(|user| {
        store
            .get(user)
            .is_some_and(|ks| touches(ks.spec.path.as_deref().unwrap_or_default(), changed))
    })
}

/// Whether any changed file lies under `path` (a Kustomization's `spec.path`).
fn touches(path: &str, changed: &BTreeSet<PathBuf>) -> bool {
    let dir = normalized(Path::new(path));
    changed
        .range(dir.clone()..)
        .next()
        .is_some_and(|first| first.starts_with(&dir))
}

/// The files added, removed or changed between two extracted trees.
fn changed_files(old: &Path, new: &Path) -> std::io::Result<BTreeSet<PathBuf>> {
    Ok(changed_contents(&tree_contents(old)?, &tree_contents(new)?))
}

/// What an extracted tree holds, as [`ArtifactFetcher`] records it when it extracts one itself.
fn tree_contents(root: &Path) -> std::io::Result<Contents> {
    let mut contents = Contents::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                contents.insert(relative.to_path_buf(), content_hash(&std::fs::read(&path)?));
            }
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(paths: &[&str]) -> BTreeSet<PathBuf> {
        paths.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn a_path_is_touched_by_files_under_it_only() {
        let changed = set(&["apps/app-0002/kustomization.yaml", "base/cm.yaml"]);
        assert!(touches("./apps/app-0002", &changed));
        assert!(touches("apps/app-0002/", &changed));
        assert!(touches("./base", &changed));
        assert!(touches("./", &changed), "the root holds everything");
        assert!(touches("", &changed));
        assert!(!touches("./apps/app-0001", &changed));
        assert!(
            !touches("./apps/app-000", &changed),
            "a name prefix is not a parent"
        );
        assert!(!touches("./apps/app-0003", &changed));
        assert!(!touches("./", &BTreeSet::new()));
    }

    #[test]
    fn compares_remembered_contents() {
        let contents = |files: &[(&str, u8)]| -> Contents {
            files
                .iter()
                .map(|(p, h)| (PathBuf::from(p), [*h; 32]))
                .collect()
        };
        let before = contents(&[("a/same.yaml", 1), ("a/edit.yaml", 2), ("gone.yaml", 3)]);
        let after = contents(&[("a/same.yaml", 1), ("a/edit.yaml", 4), ("b/new.yaml", 5)]);
        assert_eq!(
            changed_contents(&before, &after),
            set(&["a/edit.yaml", "b/new.yaml", "gone.yaml"])
        );
    }

    #[test]
    fn finds_added_removed_and_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old"), dir.path().join("new"));
        for (root, files) in [
            (
                &old,
                [
                    ("a/same.yaml", "x"),
                    ("a/edit.yaml", "1"),
                    ("gone.yaml", "g"),
                ],
            ),
            (
                &new,
                [
                    ("a/same.yaml", "x"),
                    ("a/edit.yaml", "2"),
                    ("b/new.yaml", "n"),
                ],
            ),
        ] {
            for (file, text) in files {
                let path = root.join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
        }
        assert_eq!(
            changed_files(&old, &new).unwrap(),
            set(&["a/edit.yaml", "b/new.yaml", "gone.yaml"])
        );
    }
}
