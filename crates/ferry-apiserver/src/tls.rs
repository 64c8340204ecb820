//! Serving certificates: a self-signed CA and a serving certificate for the loopback names,
//! generated once and kept in the data directory (or in memory when ephemeral).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating certificates: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM certificate or key: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("building the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The CA and serving certificate, PEM-encoded.
#[derive(Clone)]
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

fn generate() -> Result<Pki, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ferry-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "kubernetes".to_owned(),
        "kubernetes.default".to_owned(),
        "kubernetes.default.svc".to_owned(),
    ])?;
    params.subject_alt_names.push(SanType::IpAddress(
        "127.0.0.1".parse().expect("a literal IPv4 address"),
    ));
    params.subject_alt_names.push(SanType::IpAddress(
        "::1".parse().expect("a literal IPv6 address"),
    ));
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Pki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), TlsError> {
    std::fs::write(path, text).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads the PKI from `dir` (`ca.crt`, `server.crt`, `server.key`), generating and saving it on
/// first use; generates a throwaway one when `dir` is `None`.
pub fn load_or_generate(dir: Option<&Path>) -> Result<Pki, TlsError> {
    let Some(dir) = dir else { return generate() };
    let (ca, cert, key) = (
        dir.join("ca.crt"),
        dir.join("server.crt"),
        dir.join("server.key"),
    );
    if ca.exists() && cert.exists() && key.exists() {
        return Ok(Pki {
            ca_pem: read(&ca)?,
            cert_pem: read(&cert)?,
            key_pem: read(&key)?,
        });
    }
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let pki = generate()?;
    write(&ca, &pki.ca_pem)?;
    write(&cert, &pki.cert_pem)?;
    write(&key, &pki.key_pem)?;
    restrict(&key)?;
    Ok(pki)
}

/// Makes a secret file readable by its owner only.
pub fn restrict(path: &Path) -> Result<(), TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| TlsError::Io {
                path: path.to_owned(),
                source,
            },
        )?;
    }
    Ok(())
}

/// The rustls configuration serving `pki`, offering HTTP/2 and HTTP/1.1.
pub fn server_config(pki: &Pki) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let pem_err = |what: &str, e: rustls::pki_types::pem::Error| TlsError::Pem {
        path: PathBuf::from(what),
        reason: e.to_string(),
    };
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| pem_err("server.crt", e))?;
    let key = PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes())
        .map_err(|e| pem_err("server.key", e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pki_builds_a_server_config_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_generate(Some(dir.path())).unwrap();
        server_config(&first).unwrap();
        let again = load_or_generate(Some(dir.path())).unwrap();
        assert_eq!(first.ca_pem, again.ca_pem);
        assert!(first.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
