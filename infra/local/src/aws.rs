//! SDK clients for the emulator, with its dummy credentials and region.

use crate::resolve::REGION;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;

#[derive(Clone)]
pub struct Aws {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sesv2: aws_sdk_sesv2::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Aws {
    pub async fn connect(endpoint: &str) -> Aws {
        // Explicit credentials and region, so nothing from ~/.aws or the environment leaks in.
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(ates_kernel::aws::http_client())
            .endpoint_url(endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", "test", None, None, "ates-local"))
            .load()
            .await;
        Aws {
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            streams: aws_sdk_dynamodbstreams::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            sesv2: aws_sdk_sesv2::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
            // The emulator has no host per bucket.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(true)
                    .build(),
            ),
        }
    }
}

/// An SDK error with its whole cause chain, which plain Display leaves out.
pub fn describe(what: &str, error: impl std::error::Error) -> String {
    format!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(error))
}
