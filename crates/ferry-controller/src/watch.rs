//! The watches that feed the controllers' reflector stores.

use futures::Stream;
use kube::{
    Api, Resource,
    runtime::{WatchStreamExt, watcher},
};
use serde::de::DeserializeOwned;

/// A watch of every `K`, whose objects come without `metadata.managedFields`.
///
/// The stores keep every object of the kind for as long as the controller runs, and nothing in
/// the controllers reads who manages which field of their own objects. For a Kustomization the
/// entries of its status writes and of its spec make up a large part of the object: a thousand
/// of them kept about 11 MiB in the store with them. controller-runtime offers the same cut
/// (`cache.TransformStripManagedFields`).
pub fn without_managed_fields<K>(
    api: Api<K>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watcher(api, watcher::Config::default()).modify(|obj: &mut K| {
        obj.meta_mut().managed_fields = None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::server_with_repository;
    use ferry_api::GitRepository;
    use futures::TryStreamExt;

    #[tokio::test]
    async fn watched_objects_come_without_managed_fields() {
        let (_server, client, api) = server_with_repository().await;
        let stored = api.get("repo").await.unwrap();
        assert!(
            !stored
                .metadata
                .managed_fields
                .unwrap_or_default()
                .is_empty()
        );

        let events = without_managed_fields(Api::<GitRepository>::all(client));
        futures::pin_mut!(events);
        let watched = loop {
            match events.try_next().await.unwrap() {
                Some(watcher::Event::InitApply(repo)) => break repo,
                Some(_) => continue,
                None => panic!("the watch ended"),
            }
        };
        assert_eq!(watched.metadata.name.as_deref(), Some("repo"));
        assert_eq!(watched.metadata.managed_fields, None);
        assert_eq!(watched.spec, stored.spec);
    }
}
