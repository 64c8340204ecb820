//! Packing a commit's tree into a tar.gz straight from the object database: no checkout, no
//! working tree on disk. Files are filtered by the ignore rules; symlinks and submodules are
//! left out as Flux does; headers are normalised (mtime 0, uid/gid 0) so the same tree always
//! gives the same digest.

use std::io::{self, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use git2::{ObjectType, Oid, Repository};

use super::ignore::{IGNORE_FILE, IgnoreError, IgnoreRules};

/// Another artifact copied into this one (`spec.include`).
#[derive(Clone, Debug)]
pub struct IncludedArchive {
    /// The included object's name, for messages.
    pub name: String,
    /// The included artifact's tar.gz on local disk.
    pub tarball: std::path::PathBuf,
    /// Sub-path of the included artifact to copy (`""` = all of it).
    pub from_path: String,
    /// Where it lands in this artifact; whatever the repository had there is replaced.
    pub to_path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    #[error("reading git object {oid}: {cause}")]
    Object { oid: String, cause: String },
    #[error("writing the archive: {0}")]
    Io(#[from] io::Error),
    #[error("include '{name}': {cause}")]
    Include { name: String, cause: String },
}

/// Counts what went into the archive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub files: usize,
    pub bytes: u64,
}

/// Streams the tree of `commit` (plus includes) as tar.gz into `out`.
pub fn write_tree_archive<W: Write>(
    repo: &Repository,
    commit: Oid,
    ignore: Option<&str>,
    includes: &[IncludedArchive],
    out: W,
) -> Result<(W, ArchiveStats), ArchiveError> {
    let obj_err = |oid: Oid, e: git2::Error| ArchiveError::Object {
        oid: oid.to_string(),
        cause: e.message().to_string(),
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| obj_err(commit, e))?;
    let rules = IgnoreRules::new(ignore)?;
    let root_rules = rules.clone();
    let include_roots: Vec<&str> = includes
        .iter()
        .map(|i| i.to_path.trim_matches('/'))
        .collect();
    let replaced = |path: &str| {
        include_roots.iter().any(|root| {
            !root.is_empty()
                && (path == *root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/')))
        })
    };

    // Fast level: artifacts are unpacked right away by local consumers, speed beats size.
    let mut tar = tar::Builder::new(GzEncoder::new(out, Compression::new(3)));
    tar.mode(tar::HeaderMode::Deterministic);
    let mut stats = ArchiveStats::default();
    // Explicit stack instead of recursion: a hostile, deeply nested tree cannot overflow it.
    let mut stack = vec![(tree.id(), String::new(), rules)];
    while let Some((tree_id, prefix, inherited)) = stack.pop() {
        let tree = repo.find_tree(tree_id).map_err(|e| obj_err(tree_id, e))?;
        let mut rules = inherited;
        if let Some(entry) = tree.get_name(IGNORE_FILE)
            && entry.kind() == Some(ObjectType::Blob)
        {
            let blob = repo
                .find_blob(entry.id())
                .map_err(|e| obj_err(entry.id(), e))?;
            rules = rules.with_sourceignore(&prefix, &String::from_utf8_lossy(blob.content()))?;
        }
        let mut subtrees = Vec::new();
        for entry in tree.iter() {
            let Some(name) = entry.name().ok().filter(|n| is_safe_name(n)) else {
                tracing::warn!(tree = %tree_id, "skipping a tree entry with an unsafe name");
                continue;
            };
            let path = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            };
            match entry.filemode() {
                0o040000 if !rules.is_excluded(&path, true) && !replaced(&path) => {
                    subtrees.push((entry.id(), path));
                }
                mode @ (0o100644 | 0o100755 | 0o100664) => {
                    if rules.is_excluded(&path, false) || replaced(&path) {
                        continue;
                    }
                    let blob = repo
                        .find_blob(entry.id())
                        .map_err(|e| obj_err(entry.id(), e))?;
                    let perm = if mode == 0o100755 { 0o755 } else { 0o644 };
                    append_file(&mut tar, &path, perm, blob.content())?;
                    stats.files += 1;
                    stats.bytes += blob.size() as u64;
                }
                // Symlinks (0o120000) and submodules (0o160000) are not archived, as in Flux.
                _ => {}
            }
        }
        // Reverse so the stack pops them in tree order: a stable, deterministic layout.
        for (id, path) in subtrees.into_iter().rev() {
            append_dir(&mut tar, &path)?;
            stack.push((id, path, rules.clone()));
        }
    }
    for include in includes {
        copy_include(&mut tar, include, &root_rules, &mut stats)?;
    }
    let gz = tar.into_inner()?;
    Ok((gz.finish()?, stats))
}

fn is_safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    mode: u32,
    data: &[u8],
) -> io::Result<()> {
    let mut h = header(tar::EntryType::Regular, mode, data.len() as u64);
    tar.append_data(&mut h, path, data)
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> io::Result<()> {
    let mut h = header(tar::EntryType::Directory, 0o755, 0);
    tar.append_data(&mut h, format!("{path}/"), io::empty())
}

/// Copies the `from_path` part of an included artifact under `to_path`.
fn copy_include<W: Write>(
    tar: &mut tar::Builder<W>,
    include: &IncludedArchive,
    rules: &IgnoreRules,
    stats: &mut ArchiveStats,
) -> Result<(), ArchiveError> {
    let err = |cause: String| ArchiveError::Include {
        name: include.name.clone(),
        cause,
    };
    let from = include.from_path.trim_matches('/');
    let to = include.to_path.trim_matches('/');
    if !is_clean_relative(from) || to.is_empty() || !is_clean_relative(to) {
        return Err(err(format!(
            "fromPath '{from}' / toPath '{to}' must be relative paths inside the artifact"
        )));
    }
    let file = std::fs::File::open(&include.tarball)
        .map_err(|e| err(format!("{}: {e}", include.tarball.display())))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(io::BufReader::new(file)));
    let mut wrote_root = false;
    for entry in archive.entries().map_err(|e| err(e.to_string()))? {
        let mut entry = entry.map_err(|e| err(e.to_string()))?;
        let raw = entry
            .path()
            .map_err(|e| err(e.to_string()))?
            .to_string_lossy()
            .to_string();
        let path = raw
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        if path.is_empty() || !is_clean_relative(&path) {
            continue;
        }
        let rest = if from.is_empty() {
            Some(path.as_str())
        } else if path == from {
            Some("")
        } else {
            path.strip_prefix(from).and_then(|r| r.strip_prefix('/'))
        };
        let Some(rest) = rest else { continue };
        let target = if rest.is_empty() {
            to.to_string()
        } else {
            format!("{to}/{rest}")
        };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            if !rules.is_excluded(&target, true) {
                append_dir(tar, &target)?;
                wrote_root |= target == to;
            }
        } else if kind.is_file() {
            if rules.is_excluded(&target, false) {
                continue;
            }
            if !wrote_root {
                append_dir(tar, to)?;
                wrote_root = true;
            }
            let mode = if entry.header().mode().unwrap_or(0o644) & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            let mut data = Vec::with_capacity(entry.size().min(1 << 20) as usize);
            entry
                .read_to_end(&mut data)
                .map_err(|e| err(e.to_string()))?;
            append_file(tar, &target, mode, &data)?;
            stats.files += 1;
            stats.bytes += data.len() as u64;
        }
    }
    Ok(())
}

fn is_clean_relative(path: &str) -> bool {
    path.is_empty()
        || (!path.starts_with('/')
            && Path::new(path)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_))))
}
