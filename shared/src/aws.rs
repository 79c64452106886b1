//! AWS configuration, loaded once per cold start and shared by every client of a function.
//!
//! `AWS_ENDPOINT_URL` (honoured by the SDK itself) points every client at the local emulator.

pub use aws_config::SdkConfig;

pub async fn load() -> SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
