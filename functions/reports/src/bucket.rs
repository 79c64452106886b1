//! The attachments' bucket (S3): the executor's browser uploads an image straight to it with a
//! presigned PUT that signs the image's type and length (S3 refuses any other), readers get it
//! with a presigned GET, and a report checks what lies there with HeadObject before citing it.
//!
//! Every upload is tagged `cited=false` (the presigned PUT signs the tag: the browser sends
//! it as `x-amz-tagging`), and the bucket's lifecycle rule expires such objects after a week;
//! a report that cites an image retags it `cited=true` first, so it stays.

use std::time::SystemTime;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Tag, Tagging};
use chrono::{DateTime, Utc};

use crate::app::URL_LIFETIME;
use crate::ports::{Attachments, BucketError, Stored, Upload};
use crate::report::ImageType;

/// The tag of an upload no report cites yet (the lifecycle rule's filter), as a PUT sends it.
pub const UNCITED: &str = "cited=false";

pub struct Bucket {
    client: aws_sdk_s3::Client,
    name: String,
}

impl Bucket {
    /// The bucket `BUCKET_NAME`. Against an emulator (`AWS_ENDPOINT_URL`) URLs name the bucket
    /// in their path: the emulator has no host per bucket.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Bucket, String> {
        let name = std::env::var("BUCKET_NAME").map_err(|_| "BUCKET_NAME is not set".to_owned())?;
        let emulated = std::env::var_os("AWS_ENDPOINT_URL").is_some();
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(emulated)
            .build();
        Ok(Bucket::new(aws_sdk_s3::Client::from_conf(s3), name))
    }

    pub fn new(client: aws_sdk_s3::Client, name: String) -> Bucket {
        Bucket { client, name }
    }

    /// Signed from `now` for [`URL_LIFETIME`].
    fn presigning(now: DateTime<Utc>) -> Result<PresigningConfig, BucketError> {
        let lifetime = URL_LIFETIME.to_std().expect("a positive lifetime");
        PresigningConfig::builder()
            .start_time(SystemTime::from(now))
            .expires_in(lifetime)
            .build()
            .map_err(|e| BucketError(e.to_string()))
    }
}

impl Attachments for Bucket {
    async fn upload_url(
        &self,
        key: &str,
        content_type: ImageType,
        size_bytes: u64,
        now: DateTime<Utc>,
    ) -> Result<Upload, BucketError> {
        let signed = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type.as_str())
            .content_length(size_bytes as i64)
            .tagging(UNCITED)
            .presigned(Self::presigning(now)?)
            .await
            .map_err(|e| BucketError(e.to_string()))?;
        Ok(Upload {
            url: signed.uri().to_owned(),
            expires_at: now + URL_LIFETIME,
        })
    }

    async fn download_url(&self, key: &str, now: DateTime<Utc>) -> Result<String, BucketError> {
        let signed = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .presigned(Self::presigning(now)?)
            .await
            .map_err(|e| BucketError(e.to_string()))?;
        Ok(signed.uri().to_owned())
    }

    async fn stored(&self, key: &str) -> Result<Option<Stored>, BucketError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await;
        match head {
            Ok(head) => Ok(Some(Stored {
                content_type: head.content_type().and_then(ImageType::parse),
                size_bytes: head.content_length().unwrap_or(0).max(0) as u64,
            })),
            Err(e) => match e.into_service_error() {
                e if e.is_not_found() => Ok(None),
                e => Err(BucketError(e.to_string())),
            },
        }
    }

    async fn keep(&self, key: &str) -> Result<(), BucketError> {
        let cited = Tag::builder()
            .key("cited")
            .value("true")
            .build()
            .map_err(|e| BucketError(e.to_string()))?;
        let tagging = Tagging::builder()
            .tag_set(cited)
            .build()
            .map_err(|e| BucketError(e.to_string()))?;
        self.client
            .put_object_tagging()
            .bucket(&self.name)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| BucketError(e.into_service_error().to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

    fn bucket() -> Bucket {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-central-1"))
            .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
            .build();
        Bucket::new(aws_sdk_s3::Client::from_conf(config), "images".into())
    }

    fn query(url: &str, name: &str) -> String {
        let query = url.split_once('?').expect("a query").1;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {url}"))
            .replace("%3B", ";")
    }

    #[tokio::test]
    async fn an_upload_url_signs_the_type_the_length_and_the_expiry_tag() {
        let now: DateTime<Utc> = "2026-12-10T10:00:00Z".parse().unwrap();
        let upload = bucket()
            .upload_url("orders/o/a", ImageType::Png, 2048, now)
            .await
            .unwrap();
        assert!(upload.url.contains("/orders/o/a?"), "{}", upload.url);
        // S3 refuses a PUT whose signed headers differ: another type, size or tag.
        let signed = query(&upload.url, "X-Amz-SignedHeaders");
        for header in ["content-length", "content-type", "host", "x-amz-tagging"] {
            assert!(
                signed.split(';').any(|h| h == header),
                "{header} in {signed}"
            );
        }
        assert_eq!(query(&upload.url, "X-Amz-Expires"), "900");
        assert_eq!(query(&upload.url, "X-Amz-Date"), "20261210T100000Z");
        assert_eq!(upload.expires_at, now + URL_LIFETIME);
    }

    #[tokio::test]
    async fn a_download_url_lasts_fifteen_minutes() {
        let now: DateTime<Utc> = "2026-12-10T10:00:00Z".parse().unwrap();
        let url = bucket().download_url("orders/o/a", now).await.unwrap();
        assert_eq!(query(&url, "X-Amz-Expires"), "900");
        assert!(url.contains("/orders/o/a?"), "{url}");
    }
}
