//! Compressed pieces of earlier artifacts that a new artifact can copy instead of compressing
//! again.
//!
//! Next to each artifact the store keeps its piece index (`.<file>.idx`): for each run of tar
//! entries, the key naming exactly those entries and where their compressed bytes sit in the
//! tar.gz. A new commit usually changes a few files, so a new artifact is mostly byte ranges
//! copied out of the previous one (see [`super::gzip`] for why that is a valid gzip stream).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::gzip::PieceInfo;

/// sha256 over what decides a piece's uncompressed bytes (paths, modes, blob ids).
pub type PieceKey = [u8; 32];

/// A piece and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexedPiece {
    pub key: PieceKey,
    pub info: PieceInfo,
    pub files: u32,
    pub bytes: u64,
}

const MAGIC: &[u8; 10] = b"FERRYGZI1\n";
const RECORD_LEN: usize = 32 + 8 + 8 + 4 + 8 + 4 + 8;
/// An index larger than this is not ours (or is damaged): ignore it.
const MAX_INDEX_BYTES: u64 = 64 << 20;

/// The piece index of one artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PieceIndex {
    pub pieces: Vec<IndexedPiece>,
}

impl PieceIndex {
    /// Binary form: magic, artifact size, count, fixed-size little-endian records, and the
    /// sha256 of all that (a damaged index would otherwise copy wrong bytes).
    pub fn encode(&self, artifact_size: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 12 + self.pieces.len() * RECORD_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&artifact_size.to_le_bytes());
        out.extend_from_slice(&(self.pieces.len() as u32).to_le_bytes());
        for p in &self.pieces {
            out.extend_from_slice(&p.key);
            out.extend_from_slice(&p.info.offset.to_le_bytes());
            out.extend_from_slice(&p.info.compressed_len.to_le_bytes());
            out.extend_from_slice(&p.info.crc.to_le_bytes());
            out.extend_from_slice(&p.info.uncompressed_len.to_le_bytes());
            out.extend_from_slice(&p.files.to_le_bytes());
            out.extend_from_slice(&p.bytes.to_le_bytes());
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Parses an index written for an artifact of `artifact_size` bytes; `None` when it is
    /// damaged, truncated or describes another file (every range must lie inside the artifact).
    pub fn decode(bytes: &[u8], artifact_size: u64) -> Option<Self> {
        let (body, digest) = bytes.split_last_chunk::<32>()?;
        if Sha256::digest(body).as_slice() != digest {
            return None;
        }
        let rest = body.strip_prefix(MAGIC.as_slice())?;
        let (size, rest) = rest.split_first_chunk::<8>()?;
        let (count, mut rest) = rest.split_first_chunk::<4>()?;
        if u64::from_le_bytes(*size) != artifact_size {
            return None;
        }
        let count = u32::from_le_bytes(*count) as usize;
        if rest.len() != count.checked_mul(RECORD_LEN)? {
            return None;
        }
        let mut pieces = Vec::with_capacity(count);
        while let Some((record, tail)) = rest.split_first_chunk::<RECORD_LEN>() {
            rest = tail;
            let u64_at = |at: usize| {
                u64::from_le_bytes(record[at..at + 8].try_into().expect("8-byte field"))
            };
            let u32_at = |at: usize| {
                u32::from_le_bytes(record[at..at + 4].try_into().expect("4-byte field"))
            };
            let info = PieceInfo {
                offset: u64_at(32),
                compressed_len: u64_at(40),
                crc: u32_at(48),
                uncompressed_len: u64_at(52),
            };
            if info.offset.checked_add(info.compressed_len)? > artifact_size {
                return None;
            }
            pieces.push(IndexedPiece {
                key: record[..32].try_into().expect("32-byte key"),
                info,
                files: u32_at(60),
                bytes: u64_at(64),
            });
        }
        Some(Self { pieces })
    }
}

/// Pieces of earlier artifacts, by key.
#[derive(Default)]
pub struct Reusable {
    sources: Vec<Source>,
    by_key: HashMap<PieceKey, (usize, usize)>,
}

/// One earlier artifact and its pieces, sorted by offset.
struct Source {
    file: File,
    pieces: Vec<IndexedPiece>,
}

/// A piece found in an earlier artifact.
pub struct Hit {
    pub piece: IndexedPiece,
    /// Smaller pieces inside it (a large file inside a segment), offsets relative to its start.
    pub nested: Vec<IndexedPiece>,
}

impl Reusable {
    /// Adds the pieces of the artifact at `tarball` from its index at `index`. A missing or
    /// damaged index only means less reuse.
    pub fn add(&mut self, tarball: &Path, index: &Path) {
        let Ok(file) = File::open(tarball) else {
            return;
        };
        let Ok(size) = file.metadata().map(|m| m.len()) else {
            return;
        };
        let Some(mut parsed) = read_bounded(index).and_then(|b| PieceIndex::decode(&b, size))
        else {
            tracing::debug!(index = %index.display(), "piece index unusable, not reused");
            return;
        };
        // Outer pieces first at equal offsets, so the nested ones follow their container.
        parsed
            .pieces
            .sort_by_key(|p| (p.info.offset, std::cmp::Reverse(p.info.compressed_len)));
        let source = self.sources.len();
        for (i, piece) in parsed.pieces.iter().enumerate() {
            self.by_key.entry(piece.key).or_insert((source, i));
        }
        self.sources.push(Source {
            file,
            pieces: parsed.pieces,
        });
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn contains(&self, key: &PieceKey) -> bool {
        self.by_key.contains_key(key)
    }

    /// The compressed bytes of the piece `key` into `buf` (replacing its content).
    pub fn read(&self, key: &PieceKey, buf: &mut Vec<u8>) -> Option<Hit> {
        let &(source, at) = self.by_key.get(key)?;
        let source = &self.sources[source];
        let piece = source.pieces[at];
        let len = usize::try_from(piece.info.compressed_len).ok()?;
        buf.clear();
        buf.resize(len, 0);
        if let Err(e) = source.file.read_exact_at(buf, piece.info.offset) {
            tracing::debug!(error = %e, "reading a reusable piece failed, compressing instead");
            return None;
        }
        let end = piece.info.offset + piece.info.compressed_len;
        let nested = source.pieces[at + 1..]
            .iter()
            .take_while(|p| p.info.offset < end)
            .filter(|p| p.info.offset + p.info.compressed_len <= end)
            .map(|p| IndexedPiece {
                info: PieceInfo {
                    offset: p.info.offset - piece.info.offset,
                    ..p.info
                },
                ..*p
            })
            .collect();
        Some(Hit { piece, nested })
    }
}

fn read_bounded(path: &Path) -> Option<Vec<u8>> {
    let file = File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_INDEX_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()
        .filter(|_| bytes.len() as u64 <= MAX_INDEX_BYTES)?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(n: u8, offset: u64, len: u64) -> IndexedPiece {
        IndexedPiece {
            key: [n; 32],
            info: PieceInfo {
                offset,
                compressed_len: len,
                crc: 0xdead_beef,
                uncompressed_len: 4096,
            },
            files: 3,
            bytes: 1000,
        }
    }

    #[test]
    fn round_trips_and_refuses_damage() {
        let index = PieceIndex {
            pieces: vec![piece(1, 10, 100), piece(2, 110, 50)],
        };
        let bytes = index.encode(200);
        assert_eq!(PieceIndex::decode(&bytes, 200), Some(index.clone()));
        assert_eq!(
            PieceIndex::decode(&bytes, 199),
            None,
            "another artifact size"
        );
        assert_eq!(PieceIndex::decode(&bytes[..bytes.len() - 1], 200), None);
        assert_eq!(PieceIndex::decode(b"garbage", 200), None);
        let outside = PieceIndex {
            pieces: vec![piece(1, 190, 11)],
        };
        assert_eq!(PieceIndex::decode(&outside.encode(200), 200), None);
        let mut flipped = index.encode(200);
        flipped[60] ^= 1;
        assert_eq!(PieceIndex::decode(&flipped, 200), None, "checksum");
    }
}
