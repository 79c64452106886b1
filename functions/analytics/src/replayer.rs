//! The [`Replayer`] on AWS: EventBridge replays the bus's archive through analytics' projection
//! rules (no other context sees a replayed event), and SQS tells whether the queues those rules
//! fill are empty.

use ates_kernel::replay::{list, Archive};
use aws_sdk_eventbridge::types::ReplayState as AwsReplayState;
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, Utc};

use crate::ports::{BusError, Replayer};
use crate::rebuild::ReplayState;

pub struct EventBridgeReplayer {
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    /// `ARCHIVE_NAME`: the bus's archive (the replay sends its events to the bus it records).
    archive: Archive,
    /// `REPLAY_RULE_ARNS`: the rules the replayed events go through (comma-separated).
    rule_arns: Vec<String>,
    /// `REPLAY_QUEUE_URLS`: the queues those rules fill (comma-separated).
    queue_urls: Vec<String>,
}

fn bus_error(what: &str) -> impl FnOnce(String) -> BusError + '_ {
    move |e| BusError(format!("{what}: {e}"))
}

fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_eventbridge::error::SdkError<E, R>,
) -> String {
    aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string()
}

impl EventBridgeReplayer {
    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Self, ates_kernel::config::MissingVariable> {
        use ates_kernel::config::required;
        Ok(EventBridgeReplayer {
            events: aws_sdk_eventbridge::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            archive: Archive::from_env(config)?,
            rule_arns: list(&required("REPLAY_RULE_ARNS")?),
            queue_urls: list(&required("REPLAY_QUEUE_URLS")?),
        })
    }
}

impl Replayer for EventBridgeReplayer {
    async fn start_replay(&self, name: &str, until: DateTime<Utc>) -> Result<(), BusError> {
        // The whole archive, from its creation (the kernel's replay, as every context's).
        self.archive
            .replay(name, None, until, &self.rule_arns)
            .await
            .map_err(BusError)?;
        Ok(())
    }

    async fn replay_state(&self, name: &str) -> Result<ReplayState, BusError> {
        let replay = self
            .events
            .describe_replay()
            .replay_name(name)
            .send()
            .await
            .map_err(sdk_error)
            .map_err(bus_error("describe the replay"))?;
        let reason = || {
            replay
                .state_reason()
                .unwrap_or("no reason given")
                .to_owned()
        };
        Ok(match replay.state() {
            Some(AwsReplayState::Completed) => ReplayState::Completed,
            Some(AwsReplayState::Failed) => ReplayState::Failed(reason()),
            Some(AwsReplayState::Cancelled | AwsReplayState::Cancelling) => {
                ReplayState::Failed(format!("cancelled: {}", reason()))
            }
            _ => ReplayState::Running {
                through: replay
                    .event_last_replayed_time()
                    .and_then(|t| DateTime::from_timestamp_millis(t.to_millis().ok()?)),
            },
        })
    }

    async fn drained(&self) -> Result<bool, BusError> {
        for url in &self.queue_urls {
            let attributes = self
                .sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
                .map_err(|e| BusError(format!("read the queue {url}: {e}")))?;
            let waiting = attributes
                .attributes()
                .into_iter()
                .flat_map(|a| a.values())
                .any(|count| count != "0");
            if waiting {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
