//! The rustls client configuration of SSL_GET, built once from the global `SSL { … }` block.
//!
//! What keepalived 2.2 does (`check_ssl.c` `build_ssl_ctx`, `check_http.c`):
//! - without an `SSL` block it makes a bare context: no client certificate, nothing verified;
//! - with one it loads `certificate` (a PEM chain) and `key` (PEM, decrypted with `password`)
//!   as the client certificate, and `ca` as the trusted CAs (`SSL_CTX_load_verify_locations`);
//! - it never sets `SSL_VERIFY_PEER` nor reads `SSL_get_verify_result`, and never names a
//!   host to check (`SSL_set1_host` is not called; SNI, when `enable_sni` sends one, is only
//!   sent). So in keepalived even a certificate from another CA passes.
//! - a file it cannot load stops the checker process (`KEEPALIVED_EXIT_FATAL`), which stops
//!   keepalived.
//!
//! What we do, and where it differs:
//! - no `SSL` block, or one without `ca`: no verification, as keepalived;
//! - with `ca`: the server's chain **is** verified against those CAs (and its validity dates);
//!   a failure fails the check and the rustls error is logged. This is the point of writing
//!   `ca` and what the project decided (issue 6: "certificates not verified unless asked"),
//!   a deliberate difference from keepalived's ignored result. The host name is **not**
//!   checked, as keepalived never asks for it: real servers are addressed by IP and the
//!   certificate usually names the service, not the server;
//! - `certificate` + `key` are presented when the server asks for a client certificate;
//! - a `ca`, `certificate` or `key` that cannot be loaded is one error naming the path, at
//!   start and at each reload; the SSL_GET checks then fail (the daemon keeps running);
//! - an encrypted key (`password`) is not supported: rustls reads only unencrypted PKCS#1,
//!   PKCS#8 and SEC1 keys; that is such a load error, with the openssl command that
//!   decrypts the key.

use keepalived_config::model::lvs::SslConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::SignatureScheme;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use std::net::IpAddr;
use std::sync::Arc;

/// Why the SSL client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// A PEM file could not be read or parsed.
    #[error("SSL: cannot load {what} file {path}: {source}")]
    Pem {
        /// `ca`, `certificate` or `key`.
        what: &'static str,
        /// The file as configured.
        path: String,
        /// What went wrong.
        source: pem::Error,
    },
    /// The file holds no item of the wanted kind.
    #[error("SSL: {what} file {path} holds no {expected}")]
    Empty {
        /// `ca`, `certificate` or `key`.
        what: &'static str,
        /// The file as configured.
        path: String,
        /// What was looked for.
        expected: &'static str,
    },
    /// The key is encrypted.
    #[error("SSL: key file {path} is encrypted, which is not supported; decrypt it with `openssl pkey -in {path} -out NEWFILE` and drop `password`")]
    EncryptedKey {
        /// The file as configured.
        path: String,
    },
    /// A CA certificate was refused as a trust anchor.
    #[error("SSL: ca file {path}: {source}")]
    BadCa {
        /// The file as configured.
        path: String,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// rustls refused the setup (e.g. a key that does not match the certificate).
    #[error("SSL: {0}")]
    Rustls(#[from] rustls::Error),
    /// The verifier could not be built.
    #[error("SSL: ca file {path}: {source}")]
    Verifier {
        /// The file as configured.
        path: String,
        /// rustls's reason.
        source: rustls::client::VerifierBuilderError,
    },
}

/// Accepts any certificate: keepalived's behaviour without `ca`.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    // An unverified certificate makes the handshake signatures meaningless.
    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Verifies the chain against the configured CAs but not the host name (see the module
/// documentation).
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain (and revocation) before the name, so a name error means
        // the chain itself was good.
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn load_certs(
    what: &'static str,
    path: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let pem_err = |source| TlsSetupError::Pem {
        what,
        path: path.to_string(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_err)?;
    if certs.is_empty() {
        return Err(TlsSetupError::Empty {
            what,
            path: path.to_string(),
            expected: "PEM certificate",
        });
    }
    Ok(certs)
}

fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    match PrivateKeyDer::from_pem_file(path) {
        Ok(k) => Ok(k),
        Err(pem::Error::NoItemsFound) => {
            let text = std::fs::read(path).unwrap_or_default();
            let encrypted = text.windows(b"ENCRYPTED".len()).any(|w| w == b"ENCRYPTED");
            Err(if encrypted {
                TlsSetupError::EncryptedKey {
                    path: path.to_string(),
                }
            } else {
                TlsSetupError::Empty {
                    what: "key",
                    path: path.to_string(),
                    expected: "unencrypted PEM private key",
                }
            })
        }
        Err(source) => Err(TlsSetupError::Pem {
            what: "key",
            path: path.to_string(),
            source,
        }),
    }
}

fn verifier(
    ssl: Option<&SslConfig>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsSetupError> {
    let Some(path) = ssl.and_then(|s| s.ca.as_deref()) else {
        return Ok(Arc::new(AcceptAny(provider.clone())));
    };
    let mut roots = RootCertStore::empty();
    for cert in load_certs("ca", path)? {
        roots.add(cert).map_err(|source| TlsSetupError::BadCa {
            path: path.to_string(),
            source,
        })?;
    }
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|source| TlsSetupError::Verifier {
            path: path.to_string(),
            source,
        })?;
    Ok(Arc::new(ChainOnly {
        inner,
        provider: provider.clone(),
    }))
}

/// The client configuration shared by every SSL_GET, from the global `SSL` block.
pub fn client_config(ssl: Option<&SslConfig>) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = verifier(ssl, &provider)?;
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let cert = ssl.and_then(|s| s.certificate.as_deref());
    let key = ssl.and_then(|s| s.key.as_deref());
    let config = match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = load_certs("certificate", cert)?;
            let key = load_key(key)?;
            builder.with_client_auth_cert(chain, key)?
        }
        (Some(path), None) | (None, Some(path)) => {
            // OpenSSL cannot present a certificate without its key (or the reverse), so
            // keepalived's handshake goes on without one: so does ours, but says so.
            log::warn!(
                "SSL: {path} is given without its {} - no client certificate will be presented",
                if cert.is_some() { "key" } else { "certificate" }
            );
            builder.with_no_client_auth()
        }
        (None, None) => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The configuration for the SSL_GET checkers of a configuration, or `None` (logged once)
/// when it cannot be built: then every SSL_GET check fails.
pub fn load(ssl: Option<&SslConfig>) -> Option<Arc<ClientConfig>> {
    match client_config(ssl) {
        Ok(c) => Some(c),
        Err(e) => {
            log::error!("{e} - SSL_GET checks will fail");
            None
        }
    }
}

/// The server name to give rustls: a DNS name (sent as SNI) when `sni` is set and valid,
/// otherwise the address (rustls sends no SNI for an address).
pub fn server_name(sni: Option<&str>, addr: IpAddr) -> ServerName<'static> {
    sni.and_then(|s| ServerName::try_from(s.to_string()).ok())
        .unwrap_or_else(|| ServerName::IpAddress(addr.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssl(ca: Option<&str>, cert: Option<&str>, key: Option<&str>) -> SslConfig {
        SslConfig {
            ca: ca.map(String::from),
            certificate: cert.map(String::from),
            key: key.map(String::from),
            ..SslConfig::default()
        }
    }

    #[test]
    fn no_block_builds() {
        assert!(client_config(None).is_ok());
        assert!(client_config(Some(&SslConfig::default())).is_ok());
    }

    #[test]
    fn missing_files_name_the_path() {
        let e = client_config(Some(&ssl(Some("/nonexistent/ca.pem"), None, None)))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        let e = client_config(Some(&ssl(
            None,
            Some("/nonexistent/c.pem"),
            Some("/nonexistent/k.pem"),
        )))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("/nonexistent/c.pem"), "{e}");
    }

    #[test]
    fn encrypted_and_empty_keys_are_clear_errors() {
        let dir = std::env::temp_dir().join(format!("httptls-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_path = dir.join("c.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        let enc = dir.join("enc.pem");
        std::fs::write(
            &enc,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let c = cert_path.to_str().unwrap();
        let e = client_config(Some(&ssl(None, Some(c), enc.to_str())))
            .err()
            .unwrap();
        assert!(matches!(e, TlsSetupError::EncryptedKey { .. }), "{e}");
        // A certificate given as the key: no key in it.
        let e = client_config(Some(&ssl(None, Some(c), Some(c))))
            .err()
            .unwrap();
        assert!(matches!(e, TlsSetupError::Empty { what: "key", .. }), "{e}");
        // A key given as the CA: no certificate in it.
        let k = dir.join("k.pem");
        std::fs::write(&k, key.serialize_pem()).unwrap();
        let e = client_config(Some(&ssl(k.to_str(), None, None)))
            .err()
            .unwrap();
        assert!(matches!(e, TlsSetupError::Empty { what: "ca", .. }), "{e}");
        assert!(client_config(Some(&ssl(Some(c), Some(c), k.to_str()))).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
