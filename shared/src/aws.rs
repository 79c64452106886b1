//! AWS configuration, loaded once per cold start and shared by every client of a function.
//!
//! `AWS_ENDPOINT_URL` (honoured by the SDK itself) points every client at the local emulator.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use base64::Engine;
use std::sync::OnceLock;

pub use aws_config::SdkConfig;
pub use aws_sdk_dynamodb::config::SharedHttpClient;

pub async fn load() -> SdkConfig {
    let config =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client());
    // Lambda hands a function its credentials in the environment: read them there rather than
    // set up the whole provider chain (profiles, SSO, web identity, containers, IMDS) at every
    // cold start. Without them (a developer's shell), the chain finds them as usual.
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        config
            .credentials_provider(EnvironmentVariableCredentialsProvider::new())
            .load()
            .await
    } else {
        config.load().await
    }
}

/// The one HTTP client of a function: hyper + rustls on ring (the crypto jsonwebtoken already
/// links), trusting Mozilla's root certificates compiled into the binary, set up at the first
/// request. The SDK's default client links a second crypto library, reads the platform's trust
/// store at every cold start (a directory of ~150 files on Debian) and builds a TLS connector,
/// parsing every root, for each SDK client created, only to drop it: that was most of a
/// function's init time. Here the roots are parsed once, when a connection is first needed.
pub fn http_client() -> SharedHttpClient {
    SharedHttpClient::new(TlsOnFirstRequest::default())
}

#[derive(Debug, Default)]
struct TlsOnFirstRequest(OnceLock<SharedHttpClient>);

impl HttpClient for TlsOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0
            .get_or_init(https_client)
            .http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.get_or_init(https_client).connector_metadata()
    }
}

fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(mozilla_roots_pem()))
                .build()
                .expect("a trust store of root certificates is a valid TLS context"),
        )
        .build_https()
}

/// The compiled-in roots as one PEM bundle, the form the SDK's trust store takes.
fn mozilla_roots_pem() -> String {
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut pem = String::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2048);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let body = base64.encode(cert.as_ref());
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_roots_make_a_bundle_of_every_certificate() {
        let pem = mozilla_roots_pem();
        let count = pem.matches("-----BEGIN CERTIFICATE-----").count();
        assert_eq!(count, webpki_root_certs::TLS_SERVER_ROOT_CERTS.len());
        assert!(
            count > 100,
            "Mozilla's programme has well over a hundred roots, got {count}"
        );
    }

    #[tokio::test]
    async fn the_tls_connector_accepts_every_root() {
        // The HTTPS client builds a TLS connector (and parses every root, panicking on one it
        // cannot) when an SDK client is created on it: creating one proves the bundle whole.
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(https_client())
            .region(aws_config::Region::new("eu-west-1"))
            .load()
            .await;
        let _ = aws_sdk_dynamodb::Client::new(&config);
    }
}
