//! The official Kubernetes OpenAPI documents, embedded gzip-compressed and decompressed once on
//! first use. The embedded API server serves them; the schema tables are derived from them.

use std::{io::Read, sync::OnceLock};

static V2_GZ: &[u8] = include_bytes!("../data/openapi/swagger.json.gz");

/// `(served path, gzip bytes)`, e.g. `("apis/apps/v1", ...)`, sorted by path.
static V3_GZ: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/openapi_v3_table.rs"));

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 10);
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("embedded OpenAPI documents are valid gzip: they are checked in and tested");
    out
}

/// The OpenAPI v2 document (`swagger.json`) of the built-in API, as JSON bytes.
pub fn v2() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| gunzip(V2_GZ))
}

/// The group-version paths that have an OpenAPI v3 document, as served under `/openapi/v3/`:
/// `api/v1`, `apis/apps/v1`, ...
pub fn v3_paths() -> impl Iterator<Item = &'static str> {
    V3_GZ.iter().map(|(path, _)| *path)
}

/// The OpenAPI v3 document of one group-version path (see [`v3_paths`]), as JSON bytes.
/// Each document is decompressed on its first request only.
pub fn v3(path: &str) -> Option<&'static [u8]> {
    static DOCS: OnceLock<Box<[OnceLock<Vec<u8>>]>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| V3_GZ.iter().map(|_| OnceLock::new()).collect());
    let i = V3_GZ.iter().position(|(p, _)| *p == path)?;
    Some(docs[i].get_or_init(|| gunzip(V3_GZ[i].1)).as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The embedded documents are byte-identical to the upstream files listed in SHA256SUMS.
    #[test]
    fn embedded_documents_match_upstream_checksums() {
        let sums = include_str!("../data/openapi/SHA256SUMS");
        let mut checked = 0;
        for line in sums.lines() {
            let Some((sum, file)) = line.split_once("  ") else {
                continue;
            };
            let bytes = if file == "swagger.json" {
                v2()
            } else {
                let Some(path) = file
                    .strip_prefix("v3/")
                    .and_then(|f| f.strip_suffix("_openapi.json"))
                else {
                    continue;
                };
                v3(&path.replace("__", "/")).unwrap_or_else(|| panic!("{file} is embedded"))
            };
            assert_eq!(hex::encode(Sha256::digest(bytes)), sum, "{file}");
            checked += 1;
        }
        assert_eq!(checked, 1 + v3_paths().count());
        assert!(v3_paths().any(|p| p == "apis/apps/v1"));
    }
}
