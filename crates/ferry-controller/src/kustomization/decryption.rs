//! `spec.decryption` (provider `sops`): SOPS-encrypted files are decrypted in memory as the
//! kustomize build reads them (Secrets' manifests and the files secret generators read), with
//! the keys of the Secret `spec.decryption.secretRef` names (`*.agekey` age identities, `*.asc`
//! PGP private keys, as Flux names them). Plaintext never reaches the disk, logs, events or
//! error messages: errors name the file and the key path only.

use std::{path::Path, sync::Arc};

use ferry_kustomize::FileFilter;
use ferry_sops::{DecryptOptions, Format, Keyring};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use serde_json::Value;

/// Decrypts SOPS files the build reads.
pub struct SopsFilter {
    keyring: Keyring,
    /// The artifact directory, so errors name files as they are in Git.
    root: std::path::PathBuf,
}

impl FileFilter for SopsFilter {
    fn filter(&self, path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        let format = Format::from_path(path);
        if !ferry_sops::is_encrypted(&bytes, format) {
            return Ok(bytes);
        }
        let name = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string();
        let options = DecryptOptions {
            file_name: Some(&name),
            ..Default::default()
        };
        ferry_sops::decrypt_with(&bytes, format, &self.keyring, &options)
            .map(|plain| plain.to_vec())
            .map_err(|e| format!("SOPS decryption failed: {e}"))
    }
}

/// The filter for a Kustomization's decryption settings.
pub async fn filter(
    client: &Client,
    namespace: &str,
    decryption: &ferry_api::kustomize::Decryption,
    artifact_root: &Path,
) -> Result<Arc<dyn FileFilter>, String> {
    if decryption.provider != "sops" {
        return Err(format!(
            "spec.decryption.provider {:?} is not supported: use sops",
            decryption.provider
        ));
    }
    let keyring = match &decryption.secret_ref {
        Some(secret_ref) => {
            let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
            let secret = api.get(&secret_ref.name).await.map_err(|e| {
                format!(
                    "cannot get decryption Secret '{namespace}/{}': {e}",
                    secret_ref.name
                )
            })?;
            let data = secret.data.unwrap_or_default();
            Keyring::from_secret_data(data.iter().map(|(k, v)| (k.as_str(), v.0.as_slice())))
                .map_err(|e| format!("decryption Secret '{namespace}/{}': {e}", secret_ref.name))?
        }
        None => Keyring::new(),
    };
    Ok(Arc::new(SopsFilter {
        keyring,
        root: artifact_root.to_path_buf(),
    }))
}

/// Objects that still carry SOPS metadata after the build: without decryption settings they
/// must not be applied (Flux refuses them the same way).
pub fn still_encrypted(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .filter(|o| o.get("sops").is_some_and(Value::is_object))
        .map(ferry_apply::object::display)
        .collect()
}
