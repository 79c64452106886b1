//! The supplier port's adapter, and the simulated supplier behind it (a partner we do not have).
//!
//! [`SupplierQueue`] places an order by putting it on the supplier's queue, delayed by
//! `SUPPLIER_DELAY_SECONDS` (the time the supplier takes to deliver). The
//! `supplies-simulated-supplier` function takes it from there and decides, from the order
//! alone, whether this attempt is delivered ([`delivers`]): an order with an item named
//! `broken …` is never delivered, and otherwise `SUPPLIER_FAILURE_PERCENT` of the attempts are
//! not, picked by the kit id and attempt (so the same attempt always fares the same, and a test
//! can steer it). A delivered order is answered by the signed callback
//! `POST /supplies/supplier/deliveries`; an undelivered one is never answered, and the re-order
//! timer places it again at its deadline. A real supplier would be another adapter of the port.

use std::sync::OnceLock;

use aws_sdk_sqs::error::DisplayErrorContext;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use sha2::{Digest, Sha256};

use crate::app::Delivery;
use crate::kit::SupplyOrder;
use crate::ports::{NotPlaced, Supplier};
use crate::signature;

/// The supplier's queue (`SUPPLIER_QUEUE_URL`), each order delayed by `SUPPLIER_DELAY_SECONDS`.
pub struct SupplierQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
    delay_seconds: i32,
}

impl SupplierQueue {
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, String> {
        let url = std::env::var("SUPPLIER_QUEUE_URL")
            .map_err(|_| "SUPPLIER_QUEUE_URL is not set".to_owned())?;
        let delay_seconds = match std::env::var("SUPPLIER_DELAY_SECONDS") {
            Err(_) => 60,
            // SQS delays a message by at most 15 minutes.
            Ok(text) => text
                .parse::<i32>()
                .ok()
                .filter(|d| (0..=900).contains(d))
                .ok_or_else(|| format!("SUPPLIER_DELAY_SECONDS {text:?} is not 0 to 900"))?,
        };
        Ok(Self {
            sqs: aws_sdk_sqs::Client::new(config),
            url,
            delay_seconds,
        })
    }
}

impl Supplier for SupplierQueue {
    async fn place(&self, order: &SupplyOrder) -> Result<(), NotPlaced> {
        let body = serde_json::to_string(order).map_err(|e| NotPlaced(e.to_string()))?;
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(self.delay_seconds)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| NotPlaced(DisplayErrorContext(e).to_string()))
    }
}

/// Whether the simulated supplier delivers this attempt of the order: never an order with a
/// `broken …` item; otherwise all but `failure_percent` of the attempts, by the kit id and
/// attempt (the same attempt always fares the same).
pub fn delivers(order: &SupplyOrder, failure_percent: u8) -> bool {
    let broken = order
        .items
        .iter()
        .any(|line| line.item.to_ascii_lowercase().starts_with("broken"));
    if broken {
        return false;
    }
    let draw = Sha256::new()
        .chain_update(order.kit_id.as_bytes())
        .chain_update(order.attempt.to_be_bytes())
        .finalize();
    let roll = u16::from_be_bytes([draw[0], draw[1]]) % 100;
    roll >= u16::from(failure_percent)
}

/// The secret the supplier signs its deliveries with (`SUPPLIER_SECRET_ARN`, the stack's
/// generated `SuppliesSupplierSecret`), read once at cold start.
pub async fn shared_secret(config: &aws_config::SdkConfig) -> Result<Vec<u8>, String> {
    let arn = std::env::var("SUPPLIER_SECRET_ARN")
        .map_err(|_| "SUPPLIER_SECRET_ARN is not set".to_owned())?;
    let secret = aws_sdk_secretsmanager::Client::new(config)
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())?;
    secret
        .secret_string()
        .filter(|s| s.len() >= 32)
        .map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| "the supplier's secret is shorter than 32 characters".to_owned())
}

/// The simulated supplier's settings (its function's environment).
pub struct Simulation {
    /// Where deliveries are called back: `<API>/supplies/supplier/deliveries`.
    pub callback_url: String,
    pub secret: Vec<u8>,
    pub failure_percent: u8,
}

impl Simulation {
    pub fn from_env(secret: Vec<u8>) -> Result<Self, String> {
        let api = std::env::var("CALLBACK_BASE_URL")
            .map_err(|_| "CALLBACK_BASE_URL is not set".to_owned())?;
        let failure_percent = match std::env::var("SUPPLIER_FAILURE_PERCENT") {
            Err(_) => 20,
            Ok(text) => text
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| format!("SUPPLIER_FAILURE_PERCENT {text:?} is not 0 to 100"))?,
        };
        Ok(Self {
            callback_url: format!("{}/supplies/supplier/deliveries", api.trim_end_matches('/')),
            secret,
            failure_percent,
        })
    }
}

/// The simulated supplier's work on one order: deliver it (the signed callback) or not. A
/// callback that fails is an error: the queue delivers the order again.
pub async fn handle(simulation: &Simulation, order: &SupplyOrder) -> Result<(), String> {
    if !delivers(order, simulation.failure_percent) {
        tracing::warn!(kit_id = %order.kit_id, attempt = order.attempt, "simulated supplier: this order is never delivered");
        return Ok(());
    }
    let delivery = Delivery {
        kit_id: order.kit_id,
        attempt: order.attempt,
    };
    let body = serde_json::to_vec(&delivery).map_err(|e| e.to_string())?;
    let request = hyper::Request::post(&simulation.callback_url)
        .header("content-type", "application/json")
        .header(
            signature::HEADER,
            signature::sign(&simulation.secret, &body),
        )
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = client()
        .request(request)
        .await
        .map_err(|e| format!("the callback failed: {e}"))?;
    let status = response.status();
    let answer = response
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    if !status.is_success() {
        return Err(format!("the callback answered {status}: {answer}"));
    }
    tracing::info!(kit_id = %order.kit_id, attempt = order.attempt, %answer, "simulated supplier: delivered");
    Ok(())
}

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The callback's HTTP client, made at the first delivery: HTTPS to the deployed API, plain
/// HTTP to the local stack's.
fn client() -> &'static hyper_util::client::legacy::Client<Https, Full<Bytes>> {
    static CLIENT: OnceLock<hyper_util::client::legacy::Client<Https, Full<Bytes>>> =
        OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ates_kernel::contracts::orders::SupplyLine;
    use uuid::Uuid;

    fn order(item: &str, attempt: u32) -> SupplyOrder {
        SupplyOrder {
            kit_id: Uuid::now_v7(),
            order_id: Uuid::now_v7(),
            attempt,
            items: vec![SupplyLine {
                item: item.into(),
                quantity: 1,
            }],
        }
    }

    #[test]
    fn a_broken_item_is_never_delivered_and_the_rest_by_the_failure_rate() {
        assert!(!delivers(&order("Broken vacuum", 1), 0));
        assert!(delivers(&order("soap", 1), 0), "no failures at 0 %");
        assert!(
            !delivers(&order("soap", 1), 100),
            "every attempt fails at 100 %"
        );
        let orders: Vec<SupplyOrder> = (0..1000).map(|i| order("soap", 1 + i % 4)).collect();
        let failed = orders.iter().filter(|o| !delivers(o, 20)).count();
        assert!(
            (120..=280).contains(&failed),
            "about 20 % of 1000 fail: {failed}"
        );
        assert!(
            orders.iter().all(|o| delivers(o, 20) == delivers(o, 20)),
            "the same each time"
        );
    }
}
