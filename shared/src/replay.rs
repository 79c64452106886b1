//! N4: a context's projections are rebuilt by replaying the bus's archive (`EventArchive` in the
//! root template) through that context's own rules only, so no other context ever sees a
//! replayed event. EventBridge marks each replayed event (`replay-name`), and the consumer is
//! told (`inbox::Delivery::replayed`): its inbox already holds the event, so a consumer that
//! takes replays re-applies it, which is safe only where the effect is kept once by the state
//! itself (a fact a book already knows changes nothing; an item keyed by its cause is written
//! again as it was).
//!
//! [`Archive::replay`] starts the replay and answers at once; EventBridge sends the events to
//! the bus the archive records (its `EventSourceArn`), filtered to the given rules.

use aws_sdk_eventbridge::primitives::DateTime as AwsTime;
use aws_sdk_eventbridge::types::ReplayDestination;
use chrono::{DateTime, Utc};

use crate::config::MissingVariable;

/// The bus's archive, as a replaying function holds it (`ARCHIVE_NAME`).
pub struct Archive {
    events: aws_sdk_eventbridge::Client,
    name: String,
}

/// A replay started.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Started {
    pub replay_name: String,
    /// The replay covers the archive's events from here (whole seconds) ...
    pub from: DateTime<Utc>,
    /// ... to here.
    pub until: DateTime<Utc>,
}

fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    what: &str,
    e: aws_sdk_eventbridge::error::SdkError<E, R>,
) -> String {
    format!(
        "{what}: {}",
        aws_sdk_eventbridge::error::DisplayErrorContext(e)
    )
}

fn aws_time(t: DateTime<Utc>) -> AwsTime {
    AwsTime::from_millis(t.timestamp_millis())
}

fn utc(t: &AwsTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), 0).unwrap_or_default()
}

/// The comma-separated list of an environment variable (`REPLAY_RULE_ARNS`).
pub fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Archive {
    pub fn new(config: &aws_config::SdkConfig, name: String) -> Archive {
        Archive {
            events: aws_sdk_eventbridge::Client::new(config),
            name,
        }
    }

    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Archive, MissingVariable> {
        Ok(Archive::new(
            config,
            crate::config::required("ARCHIVE_NAME")?,
        ))
    }

    /// Starts the replay `name` of the archive's events from `from` (by default, and at the
    /// earliest, the archive's creation: it holds nothing older) to `until`, through the rules
    /// `rule_arns` only.
    pub async fn replay(
        &self,
        name: &str,
        from: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
        rule_arns: &[String],
    ) -> Result<Started, String> {
        let archive = self
            .events
            .describe_archive()
            .archive_name(&self.name)
            .send()
            .await
            .map_err(|e| sdk_error("describe the archive", e))?;
        // Floored to the second, as an event's `time` is whole seconds: an event of the
        // archive's first second is stamped before the archive's exact creation time.
        let created = utc(&archive
            .creation_time()
            .map_or(AwsTime::from_secs(0), |t| AwsTime::from_secs(t.secs())));
        let from = from.map_or(created, |f| f.max(created));
        let bus = archive
            .event_source_arn()
            .ok_or("the archive names no bus")?;
        let destination = ReplayDestination::builder()
            .arn(bus)
            .set_filter_arns(Some(rule_arns.to_vec()))
            .build()
            .map_err(|e| e.to_string())?;
        self.events
            .start_replay()
            .replay_name(name)
            .event_source_arn(archive.archive_arn().unwrap_or_default())
            .event_start_time(aws_time(from))
            .event_end_time(aws_time(until))
            .destination(destination)
            .send()
            .await
            .map_err(|e| sdk_error("start the replay", e))?;
        Ok(Started {
            replay_name: name.to_owned(),
            from,
            until,
        })
    }
}

/// What an operator asks a context's replay function (`ates-ops replay <context>`):
/// `{"from": "<RFC 3339>", "until": "<RFC 3339>"}`, both optional: by default the whole
/// archive (from its creation) up to now.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asked {
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

impl Archive {
    /// Starts the replay `input` asks for through `rule_arns`, named `<context>-<new id>` (the
    /// name the function's `replay/<context>-*` grant allows).
    pub async fn replay_asked(
        &self,
        context: &str,
        input: serde_json::Value,
        rule_arns: &[String],
    ) -> Result<Started, String> {
        let asked: Asked = serde_json::from_value(input).map_err(|e| e.to_string())?;
        let until = asked.until.unwrap_or_else(Utc::now);
        if asked.from.is_some_and(|from| from > until) {
            return Err("from is after until".into());
        }
        let name = format!("{context}-{}", uuid::Uuid::now_v7().simple());
        let started = self.replay(&name, asked.from, until, rule_arns).await?;
        tracing::info!(replay = %started.replay_name, from = %started.from, until = %started.until, "replay started");
        Ok(started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_its_comma_separated_names() {
        assert_eq!(list(" a, b,,c "), ["a", "b", "c"]);
        assert!(list("").is_empty());
    }
}
