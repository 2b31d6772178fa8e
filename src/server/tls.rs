//! TLS: the rustls server configuration, built once at start-up from PEM files.
//!
//! Every problem with the files (missing, unreadable, not PEM, no certificate, no key, a key
//! that does not match the certificate, an encrypted key without its password or with a wrong
//! one) is a Python exception naming the file when the `Server` is made, before the app starts
//! and before anything listens. The handshake itself runs on the worker that accepted the
//! connection, in Rust (`tokio-rustls`, the `ring` provider); Python never sees it.
//!
//! ALPN advertises what the server speaks: `h2` and `http/1.1` for `http="auto"`, one of them
//! for `"1"` or `"2"`. A client that offers ALPN but none of these fails the handshake, as
//! rustls does; one that offers no ALPN gets HTTP/1.1 (or HTTP/2 for `http="2"`).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

use crate::server::protocol::HttpVersions;

/// Why the certificate or key cannot be used: a message for the user, naming the file.
#[derive(Debug)]
pub(crate) enum TlsError {
    /// The file could not be read (the OS error): Python's `OSError`.
    Io(String),
    /// The file was read but is not usable: Python's `ValueError`.
    Invalid(String),
}

/// The rustls configuration for `cert` (a PEM chain, leaf first) and `key` (PEM: PKCS#8,
/// PKCS#1 RSA or SEC1 EC; encrypted PKCS#8 with `password`).
pub(crate) fn server_config(
    cert: &Path,
    key: &Path,
    password: Option<&str>,
    versions: HttpVersions,
) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = certificates(cert)?;
    let key_der = private_key(key, password)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Invalid(format!("TLS set-up failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::Invalid(format!(
                "ssl_keyfile {} does not match the certificate in ssl_certfile {}",
                key.display(),
                cert.display()
            )),
            e => TlsError::Invalid(format!(
                "cannot use ssl_certfile {} with ssl_keyfile {}: {e}",
                cert.display(),
                key.display()
            )),
        })?;
    config.alpn_protocols = match versions {
        HttpVersions::One => vec![b"http/1.1".to_vec()],
        HttpVersions::Two => vec![b"h2".to_vec()],
        HttpVersions::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    Ok(Arc::new(config))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Io(format!("cannot read {what} {}: {e}", path.display())))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path, "ssl_certfile")?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Invalid(format!("ssl_certfile {} is not valid PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(TlsError::Invalid(format!(
            "ssl_certfile {} holds no certificate (expected a PEM \"BEGIN CERTIFICATE\" block)",
            path.display()
        )));
    }
    Ok(certs)
}

const ENCRYPTED_PKCS8: &str = "ENCRYPTED PRIVATE KEY";

fn private_key(path: &Path, password: Option<&str>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path, "ssl_keyfile")?;
    let text = String::from_utf8_lossy(&pem);
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(TlsError::Invalid(format!(
            "ssl_keyfile {} is encrypted in the legacy OpenSSL format, which is not supported; convert it to \
             PKCS#8 with `openssl pkcs8 -topk8 -in OLD -out NEW` (add -nocrypt to store it unencrypted)",
            path.display()
        )));
    }
    if text.contains(&format!("-----BEGIN {ENCRYPTED_PKCS8}-----")) {
        let Some(password) = password else {
            return Err(TlsError::Invalid(format!(
                "ssl_keyfile {} is encrypted: give its password (--ssl-keyfile-password)",
                path.display()
            )));
        };
        return decrypt(path, &text, password);
    }
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Invalid(format!(
            "ssl_keyfile {} holds no private key (expected a PEM \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" \
             or \"BEGIN EC PRIVATE KEY\" block)",
            path.display()
        )),
        e => TlsError::Invalid(format!("ssl_keyfile {} is not valid PEM: {e}", path.display())),
    })
}

/// An encrypted PKCS#8 key (what `openssl genpkey -aes256` or `openssl req` without `-nodes`
/// writes: PBES2 with PBKDF2 or scrypt, AES-CBC), decrypted with `password`.
fn decrypt(path: &Path, text: &str, password: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let begin = format!("-----BEGIN {ENCRYPTED_PKCS8}-----");
    let end = format!("-----END {ENCRYPTED_PKCS8}-----");
    let block = text
        .find(&begin)
        .and_then(|start| text[start..].find(&end).map(|stop| &text[start..start + stop + end.len()]))
        .ok_or_else(|| TlsError::Invalid(format!("ssl_keyfile {} is not valid PEM", path.display())))?;
    let (_, document) = pkcs8::Document::from_pem(block)
        .map_err(|e| TlsError::Invalid(format!("ssl_keyfile {} is not valid PEM: {e}", path.display())))?;
    let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(document.as_bytes()).map_err(|e| {
        TlsError::Invalid(format!("ssl_keyfile {} is not an encrypted PKCS#8 key: {e}", path.display()))
    })?;
    let plain = encrypted.decrypt(password).map_err(|_| {
        TlsError::Invalid(format!(
            "cannot decrypt ssl_keyfile {}: wrong password, or an encryption scheme that is not supported",
            path.display()
        ))
    })?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec())))
}
