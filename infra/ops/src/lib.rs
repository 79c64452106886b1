//! ates-ops: the operator's commands for what goes wrong in production (SPEC "Operations"),
//! against AWS or, by `--endpoint-url`, the local stack. Every command that writes has
//! `--dry-run`, and every one is safe to repeat: what it re-sends, consumers deduplicate.
//!
//! Resources are found from the stack (`--stack`, CloudFormation's `ListStackResources`, nested
//! stacks followed) by their logical ids, or given explicitly, in which case the stack is not
//! read: see [`USAGE`]. The binary (`src/main.rs`) parses its command line and calls [`run`].

pub mod aws;
pub mod close;
pub mod dlq;
pub mod options;
pub mod outbox;
pub mod progress;
pub mod rebuild;
pub mod replay;

pub use options::{Command, Options};

pub const USAGE: &str = "\
usage: ates-ops [global options] <command>

commands:
  dlq list                     every dead-letter queue of the stack and how many messages it holds
  dlq show <queue> [--max N]   its messages: event type and id, why parked, when (default 50)
  dlq redrive <queue> [--max N]
                               moves its messages back to the queue that feeds it (an invocation's
                               dead letters: invokes their function again); consumers deduplicate
  outbox republish --context C --since T [--table NAME] [--bus NAME] [--work-queue URL]
                               puts context C's outbox records written since T on the bus (its work
                               records on its work queue) exactly as its relay does; T is RFC 3339
                               or an age (30m, 2h, 1d)
  close rerun --date YYYY-MM-DD [--function NAME]
                               runs the clock's end of that business day again: Clock.DayEnded for
                               the date (the same event id), which starts accounting's close if it
                               never started; a started close is not started twice
  rebuild start [--function NAME] [--as ACCOUNT]
                               starts a rebuild of analytics' projections (a replay of the archive)
  rebuild status <rebuild-id> [--wait] [--function NAME] [--as ACCOUNT]
                               its status and how far the replay has come; --wait until it ends
  replay bidding|billing [--since T] [--function NAME]
                               replays the archive (since T, RFC 3339 or an age; default: all of
                               it) into that context's rules only. bidding: books' lost facts and
                               the standings come back; bets are never replayed. billing: revenue's
                               lost lines come back (bonuses' from the bonuses kept); no money is
                               posted again

global options:
  --stack NAME         the deployed root stack (default $ATES_STACK, else ates)
  --endpoint-url URL   another AWS endpoint for every call, e.g. the local stack's
                       http://127.0.0.1:3000/_local/aws (default $AWS_ENDPOINT_URL)
  --region NAME        (default: the SDK's, else us-east-1 against an endpoint)
  --dry-run            say what would be written, write nothing
Credentials: the SDK's default chain; against an --endpoint-url without any, the emulator's.

Resources by their logical ids in the stack: a dead-letter queue is a queue another queue's
RedrivePolicy names or whose logical id ends in DeadLetters (give a queue URL instead to skip the
stack); context C's table is <C>Table, its work queue <C>WorkQueue, the bus the stack's one
AWS::Events::EventBus; the clock is ClockEndDayFunction; the rebuild functions are
AnalyticsStartRebuildFunction and AnalyticsRebuildProgressFunction; the replays are
BiddingReplayFunction and BillingReplayFunction.";

/// Runs one command; the error is what the operator reads.
pub async fn run(options: &Options) -> Result<(), String> {
    let aws = aws::Aws::connect(options).await;
    match &options.command {
        Command::DlqList => dlq::list(&aws).await,
        Command::DlqShow { queue, max } => dlq::show(&aws, queue, *max).await,
        Command::DlqRedrive { queue, max } => dlq::redrive(&aws, queue, *max).await,
        Command::OutboxRepublish(args) => outbox::republish(&aws, args).await,
        Command::CloseRerun { date, function } => {
            close::rerun(&aws, *date, function.as_deref()).await
        }
        Command::RebuildStart(args) => rebuild::start(&aws, args).await,
        Command::RebuildStatus { id, wait, args } => rebuild::status(&aws, id, *wait, args).await,
        Command::Replay {
            context,
            since,
            function,
        } => replay::start(&aws, *context, *since, function.as_deref()).await,
    }
}
