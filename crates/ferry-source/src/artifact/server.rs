//! The artifact server: plain HTTP GET of the store's files, so `status.artifact.url` works for
//! other controllers (as source-controller's `--storage-adv-addr`). Hidden files (sidecars,
//! temp files) and paths leaving the store are never served.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Routes serving the files under `root`.
pub fn router(root: impl Into<PathBuf>) -> Router {
    let root = Arc::new(root.into());
    Router::new()
        .route("/{*path}", get(serve_file))
        .with_state(root)
}

/// Serves `root` on `listener` until the task is dropped or the listener fails.
pub async fn serve(
    root: impl Into<PathBuf>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    axum::serve(listener, router(root)).await
}

fn servable(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    let clean = rel_path.components().all(|c| match c {
        Component::Normal(part) => !part.to_string_lossy().starts_with('.'),
        _ => false,
    });
    clean.then(|| root.join(rel_path))
}

async fn serve_file(State(root): State<Arc<PathBuf>>, UrlPath(rel): UrlPath<String>) -> Response {
    let Some(path) = servable(&root, &rel) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return StatusCode::NOT_FOUND.into_response(),
    };
    let len = match file.metadata().await {
        Ok(m) if m.is_file() => m.len(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let content_type = if rel.ends_with(".tar.gz") || rel.ends_with(".tgz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_and_hidden_files() {
        let root = Path::new("/store");
        assert!(servable(root, "gitrepository/ns/n/abc.tar.gz").is_some());
        for bad in [
            "../etc/passwd",
            "gitrepository/ns/n/.abc.tar.gz.json",
            "/etc/passwd",
            "a/.tmp-1",
        ] {
            assert!(servable(root, bad).is_none(), "{bad}");
        }
    }
}
