//! Watches: a chunked stream of `{"type": ..., "object": ...}` lines, resumable from a recent
//! resourceVersion (410 Expired as an ERROR event otherwise), with bookmarks, initial events
//! (`sendInitialEvents`) and label/field selector transitions (an object leaving the selection
//! is reported as DELETED, entering it as ADDED).

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{AppState, Query, Representation, Target, table, verbs};
use crate::{
    core::ListOptions,
    resources::ResourceInfo,
    schema::Reader,
    status::ApiError,
    store::{Event, EventType, StoreError, Stored},
};

/// The real server's default watch timeout (`--min-request-timeout`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Filter {
    info: Arc<ResourceInfo>,
    /// Custom resources are read with their schema's defaults.
    schema: Option<Arc<ferry_schema::TypeSchema>>,
    namespace: Option<String>,
    opts: ListOptions,
    representation: Representation,
    include_object: Option<String>,
}

impl Filter {
    fn in_scope(&self, event: &Event) -> bool {
        event.key.resource == self.info.storage_key()
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| ns == event.key.namespace)
    }

    fn selects(&self, value: &Value) -> bool {
        self.opts.labels.matches_object(value) && self.opts.fields.matches(value)
    }

    /// The event type this watcher sees for `event`, if any.
    fn translate(&self, event: &Event) -> Option<&'static str> {
        if !self.in_scope(event) {
            return None;
        }
        let now = self.selects(&event.object.value);
        let before = event
            .previous
            .as_ref()
            .is_some_and(|p| self.selects(&p.value));
        match event.kind {
            EventType::Deleted => now.then_some("DELETED"),
            EventType::Added => now.then_some("ADDED"),
            EventType::Modified => match (before, now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            },
        }
    }

    fn encode(&self, event_type: &str, stored: &Stored) -> Bytes {
        let reader = Reader::with_schema(&self.info, self.schema.clone());
        let object_json: Vec<u8> = match self.representation {
            Representation::Object => reader.json(stored).to_vec(),
            Representation::PartialMetadata => {
                serde_json::to_vec(&verbs::partial(&stored.value)).unwrap_or_default()
            }
            Representation::Table => serde_json::to_vec(&table::watch_table(
                &self.info,
                &reader.value(stored),
                stored.rv,
                self.include_object.as_deref(),
            ))
            .unwrap_or_default(),
        };
        let mut line = Vec::with_capacity(object_json.len() + 32);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(event_type.as_bytes());
        line.extend_from_slice(b"\",\"object\":");
        line.extend_from_slice(&object_json);
        line.extend_from_slice(b"}\n");
        Bytes::from(line)
    }

    fn bookmark(&self, rv: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({"kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": metadata});
        let mut line =
            serde_json::to_vec(&json!({"type": "BOOKMARK", "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

fn error_line(err: &ApiError) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": "ERROR", "object": err.to_status()}))
        .unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

pub fn serve(
    state: Arc<AppState>,
    target: &Target,
    query: &Query,
    representation: Representation,
) -> Result<Response, ApiError> {
    let info = target.info.clone();
    let mut opts = verbs::list_options(&info, query)?;
    if let Some(name) = &target.name {
        let pinned = format!("metadata.name={name}");
        let combined = match query.get("fieldSelector").filter(|f| !f.is_empty()) {
            Some(f) => format!("{f},{pinned}"),
            None => pinned,
        };
        opts.fields =
            crate::selector::FieldSelector::parse(&combined, &info.group, &info.kind, &[])
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let bookmarks = query.flag("allowWatchBookmarks");
    let send_initial = query.flag("sendInitialEvents");
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    let filter = Filter {
        namespace: if info.namespaced {
            target.namespace.clone()
        } else {
            None
        },
        schema: Reader::schema_for(&state.core, &info),
        info: info.clone(),
        opts,
        representation,
        include_object: query.get("includeObject").map(str::to_owned),
    };
    let store = &state.core.store;
    let rv_param = query.get("resourceVersion").unwrap_or_default();
    if send_initial && !bookmarks {
        return Err(ApiError::invalid_field(
            "ListOptions",
            "meta.k8s.io",
            "",
            "allowWatchBookmarks",
            "FieldValueForbidden",
            "Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is set"
                .into(),
        ));
    }

    // The first lines: initial ADDED events (state) or replayed history, then the live feed.
    let mut first: Vec<Bytes> = Vec::new();
    let (receiver, start_rv) = if rv_param.is_empty() || rv_param == "0" || send_initial {
        let (snapshot, receiver) =
            store.snapshot_and_watch(&info.storage_key(), filter.namespace.as_deref());
        if rv_param.is_empty() || rv_param == "0" || send_initial {
            for item in &snapshot.items {
                if filter.selects(&item.value) {
                    first.push(filter.encode("ADDED", item));
                }
            }
        }
        if send_initial {
            first.push(filter.bookmark(snapshot.rv, true));
        }
        (receiver, snapshot.rv)
    } else {
        let from = crate::core::parse_rv(rv_param)?;
        match store.watch_from(from) {
            Ok(start) => {
                let mut last = from;
                for event in &start.replay {
                    last = last.max(event.object.rv);
                    if let Some(t) = filter.translate(event) {
                        first.push(filter.encode(t, &event.object));
                    }
                }
                (start.receiver, last.max(from))
            }
            Err(StoreError::Expired { requested, oldest }) => {
                // The real server answers 200 and reports the expiry as the first event.
                let line = error_line(&ApiError::expired(requested, oldest));
                return Ok(stream_response(futures::stream::iter([Ok::<
                    Bytes,
                    std::io::Error,
                >(
                    line
                )])));
            }
            Err(e) => return Err(ApiError::internal(e.to_string())),
        }
    };

    let state_for_stream = WatchState {
        filter,
        receiver,
        last_rv: start_rv,
        pending: first.into(),
        deadline: tokio::time::Instant::now() + timeout,
        bookmark_every: bookmarks.then_some(state.bookmark_interval),
        next_bookmark: tokio::time::Instant::now() + state.bookmark_interval,
        shutdown: state.shutdown.clone(),
        done: false,
    };
    let stream = futures::stream::unfold(state_for_stream, |mut s| async move {
        let line = s.next_line().await?;
        Some((Ok::<Bytes, std::io::Error>(line), s))
    });
    Ok(stream_response(stream))
}

fn stream_response<S>(stream: S) -> Response
where
    S: futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    response
}

struct WatchState {
    filter: Filter,
    receiver: broadcast::Receiver<Arc<Event>>,
    last_rv: u64,
    pending: std::collections::VecDeque<Bytes>,
    deadline: tokio::time::Instant,
    bookmark_every: Option<Duration>,
    next_bookmark: tokio::time::Instant,
    shutdown: tokio::sync::watch::Receiver<bool>,
    done: bool,
}

impl WatchState {
    async fn next_line(&mut self) -> Option<Bytes> {
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        if self.done {
            return None;
        }
        loop {
            let bookmark_at = self.bookmark_every.map(|_| self.next_bookmark);
            tokio::select! {
                received = self.receiver.recv() => match received {
                    Ok(event) => {
                        if event.object.rv <= self.last_rv {
                            continue;
                        }
                        self.last_rv = event.object.rv;
                        if let Some(t) = self.filter.translate(&event) {
                            return Some(self.filter.encode(t, &event.object));
                        }
                    }
                    // A watcher too slow to keep up is closed; the client re-watches from its last
                    // resourceVersion, as with the real server's watch cache.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep_until(self.deadline) => return None,
                _ = async { match bookmark_at { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                    if let Some(every) = self.bookmark_every {
                        self.next_bookmark = tokio::time::Instant::now() + every;
                    }
                    return Some(self.filter.bookmark(self.last_rv, false));
                }
                changed = self.shutdown.changed() => {
                    if changed.is_err() || *self.shutdown.borrow() {
                        return None;
                    }
                }
            }
        }
    }
}
