//! Unpacking an artifact's tar.gz into a directory: from scratch, or over the tree of an earlier
//! artifact of the same source, writing only the files that changed and removing what is gone.
//! Creating a thousand directories and files costs far more than reading them (hundreds of
//! milliseconds on an ordinary disk), and a commit usually changes a few files.

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    io::Read,
    path::{Component, Path, PathBuf},
};

use sha2::{Digest, Sha256};

/// Largest tree extracted from one artifact.
pub const MAX_EXTRACTED: u64 = 2 << 30;

/// A file's SHA-256: equal hashes are taken for equal contents when a tree is patched.
pub type ContentHash = [u8; 32];

/// The files of an extracted artifact (relative paths) and a hash of each one's content.
pub type Contents = BTreeMap<PathBuf, ContentHash>;

/// What an extracted tree holds: its files and its directories (relative paths).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    pub files: Contents,
    pub dirs: BTreeSet<PathBuf>,
}

/// The hash of a file's content recorded in [`Contents`].
pub fn content_hash(content: &[u8]) -> ContentHash {
    Sha256::digest(content).into()
}

/// A relative path without `.`, `..` or root components, as [`Contents`] names files.
pub fn normalized(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

/// Extracts a tar.gz into `dest`, refusing entries that would land outside it, links, and
/// archives that expand beyond the size limit; returns what it holds. When `dest` holds the
/// tree `previous` describes, that tree is patched: unchanged files stay as they are.
/// On error `dest` is left half written, for the caller to remove.
pub fn extract(
    bytes: &[u8],
    dest: &Path,
    previous: Option<&Extracted>,
) -> Result<Extracted, String> {
    let empty = Extracted::default();
    let previous = previous.unwrap_or(&empty);
    std::fs::create_dir_all(dest).map_err(|e| e.to_string())?;
    let mut tree = Patch {
        dest,
        previous,
        present: previous.dirs.iter().cloned().collect(),
        out: Extracted::default(),
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut total: u64 = 0;
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        if path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(format!(
                "entry {} escapes the artifact root",
                path.display()
            ));
        }
        let relative = normalized(&path);
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            tree.directory(&relative)?;
        } else if kind.is_file() {
            total += entry.header().size().map_err(|e| e.to_string())?;
            if total > MAX_EXTRACTED {
                return Err(format!("artifact expands beyond {MAX_EXTRACTED} bytes"));
            }
            let mut content = Vec::new();
            entry.read_to_end(&mut content).map_err(|e| e.to_string())?;
            tree.file(relative, &content)?;
        }
        // Symlinks and other entry kinds are skipped: a symlink could point outside the root.
    }
    tree.remove_the_rest()?;
    Ok(tree.out)
}

/// A tree being written over `previous`.
struct Patch<'a> {
    dest: &'a Path,
    previous: &'a Extracted,
    /// Directories that exist now.
    present: HashSet<PathBuf>,
    out: Extracted,
}

impl Patch<'_> {
    /// Makes sure `relative` and its parents are directories.
    fn directory(&mut self, relative: &Path) -> Result<(), String> {
        let mut at = PathBuf::new();
        for part in relative.components() {
            at.push(part);
            self.out.dirs.insert(at.clone());
            if self.present.contains(&at) {
                continue;
            }
            let target = self.dest.join(&at);
            if self.previous.files.contains_key(&at) {
                // A file of the earlier tree stands where a directory is now.
                remove(std::fs::remove_file(&target), &target)?;
            }
            match std::fs::create_dir(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(format!("creating {}: {e}", target.display())),
            }
            self.present.insert(at.clone());
        }
        Ok(())
    }

    fn file(&mut self, relative: PathBuf, content: &[u8]) -> Result<(), String> {
        if relative.as_os_str().is_empty() {
            return Err("a file entry names the artifact root".to_owned());
        }
        if let Some(parent) = relative.parent() {
            self.directory(parent)?;
        }
        let hash = content_hash(content);
        let target = self.dest.join(&relative);
        if self.previous.files.get(&relative) != Some(&hash)
            || self.out.files.contains_key(&relative)
        {
            if self.present.remove(&relative) {
                // A directory of the earlier tree stands where a file is now.
                remove(std::fs::remove_dir_all(&target), &target)?;
            }
            std::fs::write(&target, content)
                .map_err(|e| format!("writing {}: {e}", target.display()))?;
        }
        self.out.files.insert(relative, hash);
        Ok(())
    }

    /// Removes the files and directories of the earlier tree that the new one lacks.
    fn remove_the_rest(&self) -> Result<(), String> {
        for file in self.previous.files.keys() {
            if !self.out.files.contains_key(file) && !self.out.dirs.contains(file) {
                let target = self.dest.join(file);
                remove(std::fs::remove_file(&target), &target)?;
            }
        }
        // Deepest first: a directory sorts before what it holds.
        for dir in self.previous.dirs.iter().rev() {
            if !self.out.dirs.contains(dir) && !self.out.files.contains_key(dir) {
                let target = self.dest.join(dir);
                remove(std::fs::remove_dir_all(&target), &target)?;
            }
        }
        Ok(())
    }
}

/// A removal's result, where something already gone counts as removed (also when a parent
/// directory became a file).
fn remove(result: std::io::Result<()>, target: &Path) -> Result<(), String> {
    match result {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(format!("removing {}: {e}", target.display())),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    /// A tar.gz of `entries`: a path ending in `/` is a directory.
    fn tarball(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            if path.ends_with('/') {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
            } else {
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
            }
            header.set_cksum();
            builder
                .append_data(&mut header, path, data.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    /// Every file and directory under `root`, with file contents.
    fn listing(root: &Path) -> BTreeMap<PathBuf, Option<String>> {
        let mut out = BTreeMap::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                if path.is_dir() {
                    out.insert(relative, None);
                    pending.push(path);
                } else {
                    out.insert(relative, Some(std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        out
    }

    #[test]
    fn patching_an_earlier_tree_gives_what_a_fresh_extraction_gives() {
        let old = tarball(&[
            ("same.yaml", "kind: Same"),
            ("edit.yaml", "kind: Before"),
            ("gone.yaml", "kind: Gone"),
            ("gone-dir/", ""),
            ("gone-dir/deep/x.yaml", "x"),
            ("empty/", ""),
            ("becomes-dir", "a file first"),
            ("becomes-file/inner.yaml", "inner"),
            ("apps/a/kustomization.yaml", "resources: []"),
        ]);
        let new = tarball(&[
            ("same.yaml", "kind: Same"),
            ("edit.yaml", "kind: After"),
            ("new-dir/new.yaml", "kind: New"),
            ("becomes-dir/inner.yaml", "now a directory"),
            ("becomes-file", "now a file"),
            ("apps/a/kustomization.yaml", "resources: []"),
            ("apps/b/", ""),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let (patched, fresh) = (dir.path().join("patched"), dir.path().join("fresh"));
        let before = extract(&old, &patched, None).unwrap();
        let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
        let same_inode = inode(&patched.join("same.yaml"));
        let app_inode = inode(&patched.join("apps/a/kustomization.yaml"));

        let after = extract(&new, &patched, Some(&before)).unwrap();
        let expected = extract(&new, &fresh, None).unwrap();
        assert_eq!(after, expected);
        assert_eq!(listing(&patched), listing(&fresh));
        assert_eq!(
            std::fs::read_to_string(patched.join("edit.yaml")).unwrap(),
            "kind: After"
        );
        assert!(!patched.join("gone-dir").exists());
        assert!(!patched.join("empty").exists());
        // Unchanged files were not written again.
        assert_eq!(inode(&patched.join("same.yaml")), same_inode);
        assert_eq!(inode(&patched.join("apps/a/kustomization.yaml")), app_inode);
    }

    #[test]
    fn a_file_entry_for_the_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = extract(&tarball(&[("./", ""), (".", "x")]), dir.path(), None).unwrap_err();
        assert!(err.contains("root"), "{err}");
    }
}
