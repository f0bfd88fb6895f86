//! Development certificates: a cluster CA and certificates for nodes and
//! clients, so that TLS is one command away on a laptop or in tests.
//! Production certificates come from the platform (cert-manager).

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// Certificate generation errors.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {reason}")]
    Write { path: String, reason: String },
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), CertError> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| CertError::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Writes `ca.pem`, and for each name `NAME.pem` and `NAME-key.pem`
/// signed by the CA. Every certificate carries its name as CN and DNS SAN,
/// plus `localhost` and `127.0.0.1`, and serves as server and client.
pub fn write_dev_certs(dir: &Path, names: &[String]) -> Result<(), CertError> {
    std::fs::create_dir_all(dir).map_err(|e| CertError::Write {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Kindred development CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    write(dir, "ca.pem", &ca.pem())?;
    for name in names {
        let sans = vec![name.clone(), "localhost".into(), "127.0.0.1".into()];
        let mut p = CertificateParams::new(sans)?;
        p.distinguished_name.push(DnType::CommonName, name.as_str());
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &ca, &ca_key)?;
        write(dir, &format!("{name}.pem"), &cert.pem())?;
        write(dir, &format!("{name}-key.pem"), &key.serialize_pem())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::tls::{cert_names, load_certs, load_key, TlsFiles};

    #[test]
    fn generated_certificates_load_and_carry_their_names() {
        let dir = tempfile::tempdir().unwrap();
        write_dev_certs(dir.path(), &["node-1".into()]).unwrap();
        let certs = load_certs(&dir.path().join("node-1.pem")).unwrap();
        let names = cert_names(&certs[0]);
        assert!(names.contains(&"node-1".to_string()), "{names:?}");
        load_key(&dir.path().join("node-1-key.pem")).unwrap();
        let files = TlsFiles {
            cert: dir.path().join("node-1.pem"),
            key: dir.path().join("node-1-key.pem"),
            client_ca: Some(dir.path().join("ca.pem")),
            require_client_cert: true,
        };
        files.server_config().unwrap();
    }

    #[tokio::test]
    async fn a_rotated_certificate_is_picked_up_without_a_restart() {
        use crate::security::tls::{ServerTls, RELOAD_EVERY};
        let dir = tempfile::tempdir().unwrap();
        write_dev_certs(dir.path(), &["node-1".into()]).unwrap();
        let files = TlsFiles {
            cert: dir.path().join("node-1.pem"),
            key: dir.path().join("node-1-key.pem"),
            client_ca: None,
            require_client_cert: false,
        };
        let tls = ServerTls::start(files, Vec::new()).unwrap();
        let mut generation = tls.generation();
        let before = *generation.borrow_and_update();
        // Let the file's modification time move past the loaded one.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        write_dev_certs(dir.path(), &["node-1".into()]).unwrap();
        let waited = tokio::time::timeout(RELOAD_EVERY * 5, generation.changed()).await;
        assert!(waited.is_ok(), "the new certificate was not loaded");
        assert_eq!(*generation.borrow(), before + 1);
    }
}
