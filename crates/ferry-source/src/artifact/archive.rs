//! Packing a commit's tree into a tar.gz straight from the object database: no checkout, no
//! working tree on disk. Files are filtered by the ignore rules; symlinks and submodules are
//! left out as Flux does; headers are normalised (mtime 0, uid/gid 0) so the same tree always
//! gives the same tar stream.
//!
//! The tar stream is cut into segments of a few entries, at boundaries chosen by the entries'
//! paths (so a changed file moves no boundary), and each segment is compressed on its own
//! (see [`super::gzip`]). A segment's key names its entries (path, mode, blob id): when an
//! earlier artifact holds a segment with the same key, its compressed bytes are copied from
//! there, so a one-file change recompresses one segment. Files of [`LARGE_FILE`] bytes or more
//! are pieces of their own, reused even when a neighbour changes.

use std::io::{self, Read, Write};
use std::path::Path;

use flate2::Compression;
use git2::{ObjectType, Oid, Repository};
use sha2::{Digest, Sha256};

use super::gzip::{GzipAssembler, PieceInfo};
use super::ignore::{IGNORE_FILE, IgnoreError, IgnoreRules};
use super::reuse::{IndexedPiece, PieceIndex, PieceKey, Reusable};

/// zlib's default level, as `tar czf`: with reuse only changed segments are compressed, so
/// the level costs little after the first artifact.
const LEVEL: u32 = 6;
/// A file at least this large is a piece of its own.
pub const LARGE_FILE: usize = 256 << 10;
/// A segment ends after an entry whose path hash is 0 modulo this (64 entries on average:
/// about deflate's 32 KiB window of small manifests, so cutting costs little ratio)...
const BOUNDARY_MODULUS: u64 = 64;
/// ... or after this many entries.
const MAX_SEGMENT_ENTRIES: usize = 256;
/// Included artifacts are not reused; they are compressed in pieces of about this size.
const INCLUDE_PIECE_BYTES: usize = 1 << 20;
/// Bumped whenever the tar bytes rendered for the same entries change.
const KEY_VERSION: &[u8] = b"ferry-tar-v1";

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
    /// Pieces copied from earlier artifacts.
    pub reused_pieces: usize,
    /// Pieces compressed by this run.
    pub compressed_pieces: usize,
    /// Uncompressed bytes those pieces held (the work reuse saved is the rest).
    pub compressed_input_bytes: u64,
}

/// A finished archive.
pub struct Archive<W> {
    pub writer: W,
    pub stats: ArchiveStats,
    /// Where this archive's pieces are, for the next one to reuse.
    pub index: PieceIndex,
}

/// Streams the tree of `commit` (plus includes) as tar.gz into `out`, copying what it can from
/// `reuse`.
pub fn write_tree_archive<W: Write>(
    repo: &Repository,
    commit: Oid,
    ignore: Option<&str>,
    includes: &[IncludedArchive],
    reuse: &Reusable,
    out: W,
) -> Result<Archive<W>, ArchiveError> {
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

    let mut packer = Packer::new(repo, reuse, out)?;
    // Explicit stack instead of recursion: a hostile, deeply nested tree cannot overflow it.
    let mut stack = vec![(tree.id(), String::new(), rules)];
    while let Some((tree_id, prefix, inherited)) = stack.pop() {
        if !prefix.is_empty() {
            packer.push(Entry {
                path: prefix.clone(),
                kind: Kind::Dir,
            })?;
        }
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
                    let perm = if mode == 0o100755 { 0o755 } else { 0o644 };
                    packer.push(Entry {
                        path,
                        kind: Kind::File {
                            perm,
                            oid: entry.id(),
                        },
                    })?;
                }
                // Symlinks (0o120000) and submodules (0o160000) are not archived, as in Flux.
                _ => {}
            }
        }
        // Reverse so the stack pops them in tree order: a stable, deterministic layout.
        for (id, path) in subtrees.into_iter().rev() {
            stack.push((id, path, rules.clone()));
        }
    }
    packer.end_segment()?;
    for include in includes {
        copy_include(&mut packer, include, &root_rules)?;
    }
    packer.finish()
}

fn obj_err(oid: Oid, e: git2::Error) -> ArchiveError {
    ArchiveError::Object {
        oid: oid.to_string(),
        cause: e.message().to_string(),
    }
}

fn is_safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

enum Kind {
    Dir,
    File { perm: u32, oid: Oid },
}

/// One tar entry of the tree, before its bytes are read.
struct Entry {
    path: String,
    kind: Kind,
}

impl Entry {
    fn hash_into(&self, h: &mut Sha256) {
        h.update((self.path.len() as u64).to_le_bytes());
        h.update(self.path.as_bytes());
        match self.kind {
            Kind::Dir => h.update([0]),
            Kind::File { perm, oid } => {
                h.update([1]);
                h.update(perm.to_le_bytes());
                h.update(oid.as_bytes());
            }
        }
    }

    /// Whether a segment ends after this entry: FNV-1a of the path, so the boundaries depend
    /// on the paths alone and a changed file leaves every other segment as it was.
    fn ends_segment(&self) -> bool {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.path.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        hash.is_multiple_of(BOUNDARY_MODULUS)
    }
}

fn key_of<'e>(tag: &[u8], entries: impl IntoIterator<Item = &'e Entry>) -> PieceKey {
    let mut h = Sha256::new();
    h.update(KEY_VERSION);
    h.update(tag);
    for entry in entries {
        entry.hash_into(&mut h);
    }
    h.finalize().into()
}

/// The running CRC and length of a run of pieces.
#[derive(Default)]
struct Span {
    crc: crc32fast::Hasher,
    len: u64,
    files: u32,
    bytes: u64,
}

impl Span {
    fn add(&mut self, info: PieceInfo) {
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(
            info.crc,
            info.uncompressed_len,
        ));
        self.len += info.uncompressed_len;
    }
}

/// Turns entries into segments, reused or compressed, in the gzip member.
struct Packer<'r, W: Write> {
    repo: &'r Repository,
    reuse: &'r Reusable,
    gz: GzipAssembler<W>,
    /// Renders headers and data; its buffer holds the tar bytes not yet compressed.
    tar: tar::Builder<Vec<u8>>,
    pending: Vec<Entry>,
    index: PieceIndex,
    stats: ArchiveStats,
    scratch: Vec<u8>,
}

impl<'r, W: Write> Packer<'r, W> {
    fn new(repo: &'r Repository, reuse: &'r Reusable, out: W) -> io::Result<Self> {
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(Self {
            repo,
            reuse,
            gz: GzipAssembler::new(out, Compression::new(LEVEL))?,
            tar,
            pending: Vec::new(),
            index: PieceIndex::default(),
            stats: ArchiveStats::default(),
            scratch: Vec::new(),
        })
    }

    fn push(&mut self, entry: Entry) -> Result<(), ArchiveError> {
        let ends = entry.ends_segment();
        self.pending.push(entry);
        if ends || self.pending.len() >= MAX_SEGMENT_ENTRIES {
            self.end_segment()?;
        }
        Ok(())
    }

    /// Copies one piece of an earlier artifact, if it has `key`, and records it (and the
    /// pieces inside it, so they stay reusable on their own) in this archive's index.
    fn try_reuse(&mut self, key: &PieceKey) -> io::Result<Option<(PieceInfo, IndexedPiece)>> {
        let Some(hit) = self.reuse.read(key, &mut self.scratch) else {
            return Ok(None);
        };
        let piece = hit.piece;
        let info = self.gz.append_compressed(
            &self.scratch,
            piece.info.crc,
            piece.info.uncompressed_len,
        )?;
        self.stats.reused_pieces += 1;
        self.stats.files += piece.files as usize;
        self.stats.bytes += piece.bytes;
        self.record(*key, info, piece.files, piece.bytes);
        for nested in hit.nested {
            let moved = PieceInfo {
                offset: info.offset + nested.info.offset,
                ..nested.info
            };
            self.record(nested.key, moved, nested.files, nested.bytes);
        }
        Ok(Some((info, piece)))
    }

    /// Compresses the tar bytes rendered so far as one piece.
    fn compress_rendered(&mut self) -> io::Result<Option<PieceInfo>> {
        let rendered = std::mem::take(self.tar.get_mut());
        if rendered.is_empty() {
            return Ok(None);
        }
        let info = self.gz.compress(&rendered)?;
        self.stats.compressed_pieces += 1;
        self.stats.compressed_input_bytes += rendered.len() as u64;
        // Keep the allocation for the next piece.
        *self.tar.get_mut() = rendered;
        self.tar.get_mut().clear();
        Ok(Some(info))
    }

    fn record(&mut self, key: PieceKey, info: PieceInfo, files: u32, bytes: u64) {
        self.index.pieces.push(IndexedPiece {
            key,
            info,
            files,
            bytes,
        });
    }

    /// Writes the pending entries as one segment.
    fn end_segment(&mut self) -> Result<(), ArchiveError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let entries = std::mem::take(&mut self.pending);
        let key = key_of(b"segment", &entries);
        if self.try_reuse(&key)?.is_some() {
            return Ok(());
        }
        let start = self.gz.position();
        let mut span = Span::default();
        for entry in &entries {
            let (perm, oid) = match entry.kind {
                Kind::Dir => {
                    append_dir(&mut self.tar, &entry.path)?;
                    continue;
                }
                Kind::File { perm, oid } => (perm, oid),
            };
            let entry_key = key_of(b"file", [entry]);
            if self.reuse.contains(&entry_key) {
                if let Some(info) = self.compress_rendered()? {
                    span.add(info);
                }
                if let Some((info, piece)) = self.try_reuse(&entry_key)? {
                    span.add(info);
                    span.files += piece.files;
                    span.bytes += piece.bytes;
                    continue;
                }
            }
            let blob = self.repo.find_blob(oid).map_err(|e| obj_err(oid, e))?;
            let size = blob.size() as u64;
            self.stats.files += 1;
            self.stats.bytes += size;
            span.files += 1;
            span.bytes += size;
            if blob.size() < LARGE_FILE {
                append_file(&mut self.tar, &entry.path, perm, blob.content())?;
                continue;
            }
            if let Some(info) = self.compress_rendered()? {
                span.add(info);
            }
            append_file(&mut self.tar, &entry.path, perm, blob.content())?;
            if let Some(info) = self.compress_rendered()? {
                span.add(info);
                self.record(entry_key, info, 1, size);
            }
        }
        if let Some(info) = self.compress_rendered()? {
            span.add(info);
        }
        let info = PieceInfo {
            offset: start,
            compressed_len: self.gz.position() - start,
            crc: span.crc.finalize(),
            uncompressed_len: span.len,
        };
        self.record(key, info, span.files, span.bytes);
        Ok(())
    }

    /// Included files: rendered and compressed without reuse.
    fn include_file(&mut self, path: &str, perm: u32, data: &[u8]) -> io::Result<()> {
        append_file(&mut self.tar, path, perm, data)?;
        self.stats.files += 1;
        self.stats.bytes += data.len() as u64;
        self.maybe_compress_include()
    }

    fn include_dir(&mut self, path: &str) -> io::Result<()> {
        append_dir(&mut self.tar, path)?;
        self.maybe_compress_include()
    }

    fn maybe_compress_include(&mut self) -> io::Result<()> {
        if self.tar.get_ref().len() >= INCLUDE_PIECE_BYTES {
            self.compress_rendered()?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Archive<W>, ArchiveError> {
        self.compress_rendered()?;
        // tar's end of archive: two zero blocks, in the final deflate block.
        let writer = self.gz.finish(&[0; 1024])?;
        Ok(Archive {
            writer,
            stats: self.stats,
            index: self.index,
        })
    }
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
    packer: &mut Packer<'_, W>,
    include: &IncludedArchive,
    rules: &IgnoreRules,
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
    let mut archive =
        tar::Archive::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file)));
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
                packer.include_dir(&target)?;
                wrote_root |= target == to;
            }
        } else if kind.is_file() {
            if rules.is_excluded(&target, false) {
                continue;
            }
            if !wrote_root {
                packer.include_dir(to)?;
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
            packer.include_file(&target, mode, &data)?;
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
