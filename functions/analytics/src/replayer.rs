//! The [`Replayer`] on AWS: EventBridge replays the bus's archive through analytics' projection
//! rules (no other context sees a replayed event), and SQS tells whether the queues those rules
//! fill are empty.

use aws_sdk_eventbridge::primitives::DateTime as AwsTime;
use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState as AwsReplayState};
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, Utc};

use crate::ports::{BusError, Replayer};
use crate::rebuild::ReplayState;

pub struct EventBridgeReplayer {
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    /// `ARCHIVE_NAME`: the bus's archive.
    archive: String,
    /// `EVENT_BUS_ARN`: where the replay sends the events.
    bus_arn: String,
    /// `REPLAY_RULE_ARNS`: the rules the replayed events go through (comma-separated).
    rule_arns: Vec<String>,
    /// `REPLAY_QUEUE_URLS`: the queues those rules fill (comma-separated).
    queue_urls: Vec<String>,
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn bus_error(what: &str) -> impl FnOnce(String) -> BusError + '_ {
    move |e| BusError(format!("{what}: {e}"))
}

fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: aws_sdk_eventbridge::error::SdkError<E, R>,
) -> String {
    aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string()
}

fn aws_time(t: DateTime<Utc>) -> AwsTime {
    AwsTime::from_millis(t.timestamp_millis())
}

impl EventBridgeReplayer {
    pub fn from_env(
        config: &aws_config::SdkConfig,
    ) -> Result<Self, ates_kernel::config::MissingVariable> {
        use ates_kernel::config::required;
        Ok(EventBridgeReplayer {
            events: aws_sdk_eventbridge::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            archive: required("ARCHIVE_NAME")?,
            bus_arn: required("EVENT_BUS_ARN")?,
            rule_arns: list(&required("REPLAY_RULE_ARNS")?),
            queue_urls: list(&required("REPLAY_QUEUE_URLS")?),
        })
    }
}

impl Replayer for EventBridgeReplayer {
    async fn start_replay(&self, name: &str, until: DateTime<Utc>) -> Result<(), BusError> {
        // The archive holds nothing older than itself: replay from its creation, floored to
        // the second, as an event's `time` is whole seconds: an event of the archive's first
        // second is stamped before the archive's exact creation time.
        let archive = self
            .events
            .describe_archive()
            .archive_name(&self.archive)
            .send()
            .await
            .map_err(sdk_error)
            .map_err(bus_error("describe the archive"))?;
        let from = AwsTime::from_secs(archive.creation_time().map_or(0, AwsTime::secs));
        let destination = ReplayDestination::builder()
            .arn(&self.bus_arn)
            .set_filter_arns(Some(self.rule_arns.clone()))
            .build()
            .map_err(|e| BusError(e.to_string()))?;
        self.events
            .start_replay()
            .replay_name(name)
            .event_source_arn(archive.archive_arn().unwrap_or_default())
            .event_start_time(from)
            .event_end_time(aws_time(until))
            .destination(destination)
            .send()
            .await
            .map_err(sdk_error)
            .map_err(bus_error("start the replay"))?;
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
