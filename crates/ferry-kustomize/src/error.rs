//! Build errors. kustomize reports failures as a chain of prefixes ("accumulating resources:
//! accumulation err='...': ...") ending in the cause; ferry keeps the same wording so messages
//! can be compared and searched the same way, and keeps the typed cause underneath.

use std::path::PathBuf;

use crate::kustfile::KustFileError;
use crate::loader::LoadError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A step that failed, and why.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    KustFile(#[from] KustFileError),
    /// A YAML file that could not be read.
    #[error("MalformedYAMLError: {source} in File: {}", path.display())]
    Yaml {
        path: PathBuf,
        source: ferry_yaml::Error,
    },
    /// A condition kustomize rejects; the message is kustomize's.
    #[error("{0}")]
    Message(String),
}

impl Error {
    pub fn msg(m: impl Into<String>) -> Error {
        Error::Message(m.into())
    }

    /// Prefix this error with what was being done.
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// Is the root cause a missing kustomization file?
    pub fn is_missing_kustomization(&self) -> bool {
        match self {
            Error::Context { source, .. } => source.is_missing_kustomization(),
            Error::KustFile(KustFileError::Missing { .. }) => true,
            _ => false,
        }
    }
}

pub trait ResultExt<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T, E: Into<Error>> ResultExt<T> for Result<T, E> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|e| e.into().context(context()))
    }
}
