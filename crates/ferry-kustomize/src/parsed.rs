//! Kustomization files and inline patches as parsed before, found by their text.
//!
//! A new revision of a repository holds mostly the files of the one before, so the builds of
//! successive revisions parse the same kustomization files and patches again and again (a
//! commit to a shared base changes no overlay file, yet every overlay is built anew). Parsing
//! YAML is the costliest part of loading them. The cache keeps what the YAML parse made as
//! compact JSON, which decodes several times faster than the YAML parses and takes less memory
//! than the decoded structures would.
//!
//! Only successful parses are kept: an error names the file it came from, which the text does
//! not tell. Patches read from files are not kept, as a file filter may have decrypted them
//! and their plaintext must not outlive the build.

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex, PoisonError},
};

use serde_json::Value;

use crate::{
    error::Error,
    kustfile::{self, KustFileError, Kustomization},
};

/// How many texts of each sort are kept; when full, the cache starts afresh. Enough for the
/// files of several thousand kustomizations.
const LIMIT: usize = 8192;

/// Parses kept across builds, shared by the [`crate::DirCache`]s of successive revisions.
#[derive(Default)]
pub struct ParseCache {
    /// Kustomization text to its canonical value's JSON.
    kustomizations: Kept,
    /// Inline patch text to its documents' JSON.
    patches: Kept,
}

#[derive(Default)]
struct Kept(Mutex<HashMap<Box<str>, Arc<str>>>);

impl Kept {
    fn get(&self, text: &str) -> Option<Arc<str>> {
        self.lock().get(text).cloned()
    }

    fn put(&self, text: &str, json: String) {
        let mut kept = self.lock();
        if kept.len() >= LIMIT {
            kept.clear();
        }
        kept.insert(Box::from(text), Arc::from(json));
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<str>>> {
        // The map is consistent after every insert, so a panic elsewhere leaves it usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ParseCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// [`kustfile::parse`] of `text`, the contents of `path`.
    pub fn kustomization(&self, text: &str, path: &Path) -> Result<Kustomization, KustFileError> {
        if let Some(json) = self.kustomizations.get(text) {
            return kustfile::from_canonical_json(&json, path);
        }
        let value = kustfile::canonical(text, path)?;
        let json = value.to_string();
        let parsed = kustfile::from_canonical(value, path)?;
        self.kustomizations.put(text, json);
        Ok(parsed)
    }

    /// The documents of an inline patch, `parse` reading them when `text` was not seen.
    pub(crate) fn inline_patch(
        &self,
        text: &str,
        parse: impl FnOnce() -> Result<Vec<Value>, Error>,
    ) -> Result<Vec<Value>, Error> {
        if let Some(json) = self.patches.get(text)
            && let Ok(docs) = serde_json::from_str(&json)
        {
            return Ok(docs);
        }
        let docs = parse()?;
        if let Ok(json) = serde_json::to_string(&docs) {
            self.patches.put(text, json);
        }
        Ok(docs)
    }

    /// How many texts it holds.
    pub fn len(&self) -> usize {
        self.kustomizations.len() + self.patches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for ParseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseCache")
            .field("texts", &self.len())
            .finish()
    }
}
