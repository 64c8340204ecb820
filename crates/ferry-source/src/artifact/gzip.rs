//! One gzip member (RFC 1952) assembled from independently compressed deflate pieces.
//!
//! Each piece is raw deflate from a fresh compressor, ended by a sync flush: it is byte-aligned,
//! holds no final block and refers to no data before it, so pieces can be concatenated in any
//! order and the result is one valid deflate stream. The member's CRC-32 is combined from the
//! pieces' CRCs (zlib's `crc32_combine`), so a reused piece is copied without decompressing it.
//! Any gzip reader (Go's `gzip.Reader`, flate2's single-member `GzDecoder`, `gzip -d`) reads
//! the result: it is a single member, not a multi-member stream.

use std::io::{self, Write};

use flate2::{Compress, Compression, FlushCompress, Status};

/// gzip header: magic, deflate, no flags, mtime 0 (reproducible), no extra flags, OS unknown.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// What a piece adds to the member: its compressed size and the CRC/length of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PieceInfo {
    /// Offset of the piece's first compressed byte in the output.
    pub offset: u64,
    pub compressed_len: u64,
    pub crc: u32,
    pub uncompressed_len: u64,
}

/// Writes a gzip member piece by piece into `out`.
pub struct GzipAssembler<W: Write> {
    out: W,
    /// One compressor, reset before every piece (as good as a fresh one, without allocating
    /// its window and tables again).
    compressor: Compress,
    crc: crc32fast::Hasher,
    /// Compressed bytes written so far, header included.
    position: u64,
    /// Uncompressed bytes so far, for the trailer's ISIZE.
    input_len: u64,
    /// Reused between pieces to avoid a fresh allocation per piece.
    buf: Vec<u8>,
}

impl<W: Write> GzipAssembler<W> {
    pub fn new(mut out: W, level: Compression) -> io::Result<Self> {
        out.write_all(&HEADER)?;
        Ok(Self {
            out,
            compressor: Compress::new(level, false),
            crc: crc32fast::Hasher::new(),
            position: HEADER.len() as u64,
            input_len: 0,
            buf: Vec::new(),
        })
    }

    /// Where the next piece starts in the output.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Compresses `data` as a new piece.
    pub fn compress(&mut self, data: &[u8]) -> io::Result<PieceInfo> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        deflate_into(&mut self.compressor, data, FlushCompress::Sync, &mut buf)?;
        let info = self.append_compressed(&buf, crc_of(data), data.len() as u64);
        self.buf = buf;
        info
    }

    /// Appends a piece compressed earlier (by [`GzipAssembler::compress`], here or in another
    /// artifact) whose input had checksum `crc` and length `uncompressed_len`.
    pub fn append_compressed(
        &mut self,
        compressed: &[u8],
        crc: u32,
        uncompressed_len: u64,
    ) -> io::Result<PieceInfo> {
        let info = PieceInfo {
            offset: self.position,
            compressed_len: compressed.len() as u64,
            crc,
            uncompressed_len,
        };
        self.out.write_all(compressed)?;
        self.position += compressed.len() as u64;
        self.input_len += uncompressed_len;
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(
            crc,
            uncompressed_len,
        ));
        Ok(info)
    }

    /// Compresses `tail` as the final block, writes the trailer and returns the writer.
    pub fn finish(mut self, tail: &[u8]) -> io::Result<W> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        deflate_into(&mut self.compressor, tail, FlushCompress::Finish, &mut buf)?;
        self.out.write_all(&buf)?;
        self.crc.combine(&crc32fast::Hasher::new_with_initial_len(
            crc_of(tail),
            tail.len() as u64,
        ));
        self.input_len += tail.len() as u64;
        // ISIZE is the input length modulo 2^32 (RFC 1952).
        let isize = (self.input_len & 0xffff_ffff) as u32;
        self.out
            .write_all(&self.crc.clone().finalize().to_le_bytes())?;
        self.out.write_all(&isize.to_le_bytes())?;
        Ok(self.out)
    }
}

fn crc_of(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(data);
    h.finalize()
}

/// Raw deflate of `data` from a reset compressor (no history), ended by `flush`: Sync
/// (byte-aligned, not final, so another piece may follow) or Finish (the final block).
fn deflate_into(
    c: &mut Compress,
    data: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    c.reset();
    // Counted from here, whatever the backend's totals do on reset.
    let base = c.total_in();
    let consumed = |c: &Compress| {
        usize::try_from(c.total_in() - base)
            .unwrap_or(data.len())
            .min(data.len())
    };
    out.reserve(data.len() / 4 + 64);
    loop {
        let status = c
            .compress_vec(&data[consumed(c)..], out, flush)
            .map_err(io::Error::other)?;
        let all_in = consumed(c) == data.len();
        // zlib's contract: a flush is complete when it returns with output space to spare.
        let room_left = out.len() < out.capacity();
        match status {
            Status::StreamEnd => return Ok(()),
            _ if all_in && room_left && !matches!(flush, FlushCompress::Finish) => return Ok(()),
            _ => out.reserve(out.capacity().max(4096)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    #[test]
    fn pieces_from_different_compressors_form_one_member() {
        let a: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let b = b"kind: ConfigMap\n".repeat(3000);
        let mut first = GzipAssembler::new(Vec::new(), Compression::new(6)).expect("header");
        let piece_a = first.compress(&a).expect("a");
        let piece_b = first.compress(&b).expect("b");
        let first = first.finish(b"end").expect("finish");
        assert_eq!(
            gunzip(&first),
            [a.as_slice(), b.as_slice(), b"end".as_slice()].concat()
        );

        // Pieces copied out of the first member, in another order, with a new piece between.
        let range =
            |p: PieceInfo| &first[p.offset as usize..(p.offset + p.compressed_len) as usize];
        let mut second = GzipAssembler::new(Vec::new(), Compression::new(1)).expect("header");
        second
            .append_compressed(range(piece_b), piece_b.crc, piece_b.uncompressed_len)
            .expect("b");
        second.compress(b"middle").expect("middle");
        second
            .append_compressed(range(piece_a), piece_a.crc, piece_a.uncompressed_len)
            .expect("a");
        let second = second.finish(&[]).expect("finish");
        assert_eq!(
            gunzip(&second),
            [b.as_slice(), b"middle".as_slice(), a.as_slice()].concat()
        );
        // Single member: the multi-member decoder reads nothing more than the plain one.
        let mut multi = Vec::new();
        flate2::read::MultiGzDecoder::new(second.as_slice())
            .read_to_end(&mut multi)
            .expect("multi");
        assert_eq!(multi, gunzip(&second));
    }

    #[test]
    fn empty_and_incompressible_pieces() {
        let noise: Vec<u8> = (0..70_000u64)
            .map(|i| (i.wrapping_mul(6364136223846793005).rotate_left(17) >> 56) as u8)
            .collect();
        let mut gz = GzipAssembler::new(Vec::new(), Compression::new(9)).expect("header");
        gz.compress(&[]).expect("empty");
        gz.compress(&noise).expect("noise");
        let bytes = gz.finish(&[]).expect("finish");
        assert_eq!(gunzip(&bytes), noise);
    }
}
